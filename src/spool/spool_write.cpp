// Appends with group commit, and acknowledgements.
//
// Group commit: an appender writes its frames under the mutex, then waits
// until some fdatasync covers its last id. If no sync in flight covers it,
// it starts one itself (without the mutex) that covers everything written
// so far, and wakes the others when done. Up to max_concurrent_syncs may
// overlap: ext4 merges concurrent syncs into one journal commit, so
// letting a few overlap is faster than strictly one at a time.

#include <fcntl.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include "spool/internal/spool_state.h"

namespace armored::spool {

Result<void, SpoolError> write_all(int fd, ByteSpan data, std::uint64_t at, const std::filesystem::path& p) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unexpected(errno_error("cannot write", p));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

namespace {

using Lock = std::unique_lock<std::mutex>;

// fdatasync of a segment, both copies when mirrored: the caller may count
// the records durable only if both succeed. With `concurrently` the mirror's
// sync runs on a short-lived thread beside the primary's (spool_bench
// measures whether that pays: docs/spool.md, "Mirror").
Result<void, SpoolError> sync_copies(const Segment& seg, bool concurrently) {
  int mirror_rc = 0, mirror_errno = 0;
  std::thread helper;
  if (seg.mirror_fd >= 0 && concurrently) {
    try {
      helper = std::thread([&] {
        mirror_rc = ::fdatasync(seg.mirror_fd);
        mirror_errno = errno;
      });
    } catch (const std::system_error&) {
      // No thread to be had: the copies are synced one after the other.
    }
  }
  const int rc = ::fdatasync(seg.fd);
  const int primary_errno = errno;
  if (helper.joinable()) {
    helper.join();
  } else if (seg.mirror_fd >= 0) {
    mirror_rc = ::fdatasync(seg.mirror_fd);
    mirror_errno = errno;
  }
  if (rc != 0) {
    errno = primary_errno;
    return unexpected(errno_error("cannot sync", seg.path));
  }
  if (mirror_rc != 0) {
    errno = mirror_errno;
    return unexpected(errno_error("cannot sync the mirror copy", seg.mirror_path));
  }
  return {};
}

// Creates one copy of a new segment holding only its header, synced, with
// its directory. Unlinks it again on failure.
Result<int, SpoolError> create_copy(const std::filesystem::path& dir, const std::filesystem::path& p, ByteSpan header) {
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected(errno_error("cannot create", p));
  if (auto st = write_all(fd, header, 0, p); !st || ::fdatasync(fd) != 0 || !sync_dir(dir)) {
    auto err = st ? errno_error("cannot initialise", p) : st.error();
    ::close(fd);
    ::unlink(p.c_str());
    return unexpected(err);
  }
  return fd;
}

// Seals the active segment (synced) and starts a new one whose first id is
// next_id, in both directories when mirrored. Called with the mutex held;
// syncs still in flight on the old segment keep its descriptors alive
// through their shared_ptr.
Result<void, SpoolError> roll(Spool::State& s) {
  if (s.active_open) {
    auto& old = *s.segments.back();
    if (auto st = sync_copies(old, s.opt.mirror_concurrent_sync); !st) {
      s.failed = true;
      s.failure = "sync failed: " + st.error().message;
      return unexpected(st.error());
    }
    ++s.counters.syncs;
    s.durable_id = s.written_id;
    s.active_open = false;
  }
  auto seg = std::make_shared<Segment>();
  seg->first_id = s.next_id;
  seg->path = segment_path(s.dir, seg->first_id);
  Bytes header;
  format::append_segment_header(seg->first_id, header);
  auto fd = create_copy(s.dir, seg->path, header);
  if (!fd) return unexpected(fd.error());
  seg->fd = *fd;
  if (s.mirrored()) {
    seg->mirror_path = segment_path(*s.opt.mirror_dir, seg->first_id);
    auto mfd = create_copy(*s.opt.mirror_dir, seg->mirror_path, header);
    if (!mfd) {
      // No segment exists in one copy only: the primary's goes too.
      ::unlink(seg->path.c_str());
      return unexpected(mfd.error());
    }
    seg->mirror_fd = *mfd;
  }
  seg->size = header.size();
  s.disk_bytes += seg->size;
  s.segments.push_back(std::move(seg));
  s.active_open = true;
  return {};
}

// Drops sealed segments whose records are all acknowledged; returns their
// paths for unlinking outside the mutex.
std::vector<std::filesystem::path> take_acked_segments(Spool::State& s) {
  std::vector<std::filesystem::path> gone;
  while (!s.segments.empty()) {
    auto& front = s.segments.front();
    bool active = s.active_open && s.segments.size() == 1;
    if (active || (front->records > 0 && front->last_id() > s.acked)) break;
    s.disk_bytes -= front->size;
    gone.push_back(front->path);
    if (front->mirror_fd >= 0) gone.push_back(front->mirror_path);
    s.segments.pop_front();
  }
  return gone;
}

void unlink_all(const std::vector<std::filesystem::path>& paths) {
  for (const auto& p : paths) ::unlink(p.c_str());
}

// Whether `bytes` more (plus a segment header if a new segment is needed)
// stay within max_total_bytes. Acknowledged data still on disk counts until
// its segment is deleted; because max_total_bytes >= 2 segments, a spool
// whose records are all acknowledged always has room.
bool fits(const Spool::State& s, std::size_t bytes, bool need_roll) {
  return s.disk_bytes + bytes + (need_roll ? format::kSegmentHeaderSize : 0) <= s.opt.max_total_bytes;
}

}  // namespace

void tail_push(Spool::State& s, std::uint64_t first_id, std::uint64_t count, Bytes&& frames) {
  if (frames.size() > s.opt.memory_tail_bytes) {
    // Too big to keep: the tail must stay consecutive, so it starts over.
    s.tail.clear();
    s.tail_bytes = 0;
    return;
  }
  while (!s.tail.empty() && s.tail_bytes + frames.size() > s.opt.memory_tail_bytes) {
    s.tail_bytes -= s.tail.front()->frames.size();
    s.tail.pop_front();
  }
  s.tail_bytes += frames.size();
  s.tail.push_back(std::make_shared<const TailBlock>(TailBlock{first_id, count, std::move(frames)}));
}

void tail_drop_acked(Spool::State& s) {
  while (!s.tail.empty() && s.tail.front()->last_id() <= s.acked) {
    s.tail_bytes -= s.tail.front()->frames.size();
    s.tail.pop_front();
  }
}

SpoolResult<std::uint64_t> Spool::append(ByteSpan payload) { return append_batch(std::span(&payload, 1)); }

SpoolResult<std::uint64_t> Spool::append_batch(std::span<const ByteSpan> payloads) {
  State& s = *s_;
  std::size_t total = 0;
  for (const auto& p : payloads) {
    if (p.empty() || p.size() > s.opt.max_record_bytes) {
      return unexpected(spool_error(SpoolErrorCode::kTooLarge, "record of " + std::to_string(p.size()) +
                                                                    " bytes (limit " + std::to_string(s.opt.max_record_bytes) + ")"));
    }
    total += format::frame_size(p.size());
  }
  if (payloads.empty()) {
    Lock lk(s.mu);
    return s.next_id;  // nothing written; the id the next record will get
  }
  if (total + format::kSegmentHeaderSize > s.opt.max_segment_bytes) {
    return unexpected(spool_error(SpoolErrorCode::kTooLarge, "batch larger than a segment"));
  }

  Lock lk(s.mu);
  if (s.failed) return unexpected(spool_error(SpoolErrorCode::kIo, s.failure + "; reopen the spool"));
  const bool need_roll = !s.active_open || s.segments.back()->size + total > s.opt.max_segment_bytes;
  if (!fits(s, total, need_roll)) {
    ++s.counters.full_rejections;
    return unexpected(spool_error(SpoolErrorCode::kFull, "spool full (" + std::to_string(s.disk_bytes) + " of " +
                                                             std::to_string(s.opt.max_total_bytes) + " bytes)"));
  }
  if (need_roll) {
    if (auto st = roll(s); !st) return unexpected(st.error());
  }
  Segment& seg = *s.segments.back();
  const std::uint64_t first = s.next_id;
  Bytes frames;
  frames.reserve(total);
  std::vector<std::uint32_t> new_index;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    std::uint64_t rel = first + i - seg.first_id;
    if (rel % format::kIndexStride == 0) new_index.push_back(static_cast<std::uint32_t>(seg.size + frames.size()));
    format::append_frame(first + i, payloads[i], frames);
  }
  // Primary first, then the mirror: if either write fails, both are cut
  // back, so no record is answered from one copy only (a full or failing
  // mirror makes the append fail as a whole, and devices hear "busy").
  auto st = write_all(seg.fd, frames, seg.size, seg.path);
  if (st && seg.mirror_fd >= 0) st = write_all(seg.mirror_fd, frames, seg.size, seg.mirror_path);
  if (!st) {
    // Leave no partial record behind; if even that fails, stop writing.
    bool undone = ::ftruncate(seg.fd, static_cast<off_t>(seg.size)) == 0;
    if (seg.mirror_fd >= 0) undone = ::ftruncate(seg.mirror_fd, static_cast<off_t>(seg.size)) == 0 && undone;
    if (!undone) {
      s.failed = true;
      s.failure = "cannot undo a partial write to " + seg.path.string() +
                  (seg.mirror_fd >= 0 ? " or its mirror " + seg.mirror_path.string() : "");
    }
    return unexpected(st.error());
  }
  seg.size += frames.size();
  seg.records += payloads.size();
  seg.index.insert(seg.index.end(), new_index.begin(), new_index.end());
  s.disk_bytes += frames.size();
  tail_push(s, first, payloads.size(), std::move(frames));
  s.next_id += payloads.size();
  s.written_id = s.next_id - 1;
  const std::uint64_t last = s.written_id;

  while (s.durable_id < last && !s.failed) {
    // Wait if a sync already in flight covers this record, or too many run.
    if ((s.syncs_in_flight > 0 && s.sync_target >= last) || s.syncs_in_flight >= s.opt.max_concurrent_syncs) {
      s.cv.wait(lk);
      continue;
    }
    ++s.syncs_in_flight;
    const std::uint64_t target = s.written_id;
    s.sync_target = std::max(s.sync_target, target);
    std::shared_ptr<Segment> active = s.segments.back();
    lk.unlock();
    auto synced = sync_copies(*active, s.opt.mirror_concurrent_sync);
    lk.lock();
    --s.syncs_in_flight;
    ++s.counters.syncs;
    if (!synced) {
      // After a failed fdatasync the kernel may have dropped the dirty pages:
      // nothing written since the last good sync can be trusted.
      s.failed = true;
      s.failure = "sync failed: " + synced.error().message;
    } else if (target > s.durable_id) {
      // fdatasync covers everything written before it started, so the
      // order in which overlapping syncs finish does not matter.
      s.durable_id = target;
    }
    s.cv.notify_all();
  }
  if (s.durable_id < last) return unexpected(spool_error(SpoolErrorCode::kIo, s.failure));
  s.counters.appended_records += payloads.size();
  return first;
}

Result<void, SpoolError> Spool::ack(std::uint64_t id) {
  State& s = *s_;
  {
    Lock lk(s.mu);
    if (id <= s.acked) return {};
    if (id >= s.next_id) {
      return unexpected(spool_error(SpoolErrorCode::kInvalidAck, "ack " + std::to_string(id) +
                                                                     " beyond the last record " + std::to_string(s.next_id - 1)));
    }
  }
  std::lock_guard<std::mutex> ack_lock(s.ack_mu);
  if (id <= s.persisted_ack) return {};
  if (auto st = s.ack_file.write(id); !st) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
  s.persisted_ack = id;
  std::vector<std::filesystem::path> gone;
  {
    Lock lk(s.mu);
    if (id > s.acked) s.acked = id;
    gone = take_acked_segments(s);
    tail_drop_acked(s);
  }
  unlink_all(gone);
  return {};
}

bool Spool::needs_reopen() const {
  Lock lk(s_->mu);
  return s_->failed;
}

SpoolStats Spool::stats() const {
  Lock lk(s_->mu);
  SpoolStats out = s_->counters;
  out.next_id = s_->next_id;
  out.acked_id = s_->acked;
  out.pending_records = s_->next_id - 1 - std::min(s_->acked, s_->next_id - 1);
  out.disk_bytes = s_->disk_bytes;
  out.segments = s_->segments.size();
  out.tail_bytes = s_->tail_bytes;
  return out;
}

}  // namespace armored::spool
