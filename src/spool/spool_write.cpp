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

#include "spool/spool_state.h"

namespace armored::spool {
namespace {

using Lock = std::unique_lock<std::mutex>;

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

// Seals the active segment (synced) and starts a new one whose first id is
// next_id. Called with the mutex held; syncs still in flight on the old
// segment keep its descriptor alive through their shared_ptr.
Result<void, SpoolError> roll(Spool::State& s) {
  if (s.active_open) {
    auto& old = *s.segments.back();
    if (::fdatasync(old.fd) != 0) {
      s.failed = true;
      s.failure = "sync failed on " + old.path.string();
      return unexpected(errno_error("cannot sync", old.path));
    }
    ++s.counters.syncs;
    s.durable_id = s.written_id;
    s.active_open = false;
  }
  auto seg = std::make_shared<Segment>();
  seg->first_id = s.next_id;
  seg->path = segment_path(s.dir, seg->first_id);
  seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (seg->fd < 0) return unexpected(errno_error("cannot create", seg->path));
  Bytes header;
  format::append_segment_header(seg->first_id, header);
  if (auto st = write_all(seg->fd, header, 0, seg->path); !st || ::fdatasync(seg->fd) != 0 || !sync_dir(s.dir)) {
    ::unlink(seg->path.c_str());
    return unexpected(errno_error("cannot initialise", seg->path));
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
  if (auto st = write_all(seg.fd, frames, seg.size, seg.path); !st) {
    // Leave no partial record behind; if even that fails, stop writing.
    if (::ftruncate(seg.fd, static_cast<off_t>(seg.size)) != 0) {
      s.failed = true;
      s.failure = "cannot undo a partial write to " + seg.path.string();
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
    int rc = ::fdatasync(active->fd);
    lk.lock();
    --s.syncs_in_flight;
    ++s.counters.syncs;
    if (rc != 0) {
      // After a failed fdatasync the kernel may have dropped the dirty pages:
      // nothing written since the last good sync can be trusted.
      s.failed = true;
      s.failure = "sync failed on " + active->path.string();
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
