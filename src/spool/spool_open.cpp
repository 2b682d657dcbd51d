// Opening a spool is crash recovery: every segment is read and verified.
// A torn tail of the newest segment (the only place an interrupted append
// can leave bytes) is truncated; any other damage is corruption, handled as
// the options say. docs/spool.md states the rules.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>

#include "common/file_io.h"
#include "spool/spool_state.h"

namespace armored::spool {
namespace fs = std::filesystem;

fs::path segment_path(const fs::path& dir, std::uint64_t first_id) {
  char name[40];
  std::snprintf(name, sizeof name, "seg-%020llu.spool", static_cast<unsigned long long>(first_id));
  return dir / name;
}

SpoolError errno_error(const std::string& what, const fs::path& p) {
  return spool_error(SpoolErrorCode::kIo, what + " " + p.string() + ": " + std::strerror(errno));
}

bool sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

namespace {

struct Found {
  std::uint64_t first_id;
  fs::path path;
};

SpoolResult<std::vector<Found>> list_segments(const fs::path& dir) {
  static const std::regex kName(R"(seg-(\d{20})\.spool)");
  std::vector<Found> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, kName)) continue;
    out.push_back({std::stoull(m[1].str()), e.path()});
  }
  if (ec) return unexpected(spool_error(SpoolErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message()));
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.first_id < b.first_id; });
  return out;
}

SpoolResult<Bytes> read_whole(int fd, const fs::path& p) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return unexpected(errno_error("cannot stat", p));
  if (static_cast<std::uint64_t>(st.st_size) > 0xFFFFFFFFull) {
    return unexpected(spool_error(SpoolErrorCode::kCorrupt, p.string() + " is larger than 4 GiB"));
  }
  Bytes buf(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unexpected(errno_error("cannot read", p));
    done += static_cast<std::size_t>(n);
  }
  return buf;
}

// Moves bytes [from, to) of a damaged segment aside, to a file named after
// the segment and the offset, for inspection; returns its path.
SpoolResult<fs::path> move_aside(Spool::State& s, const Segment& seg, ByteSpan bytes, std::size_t from,
                                 std::size_t to) {
  fs::path aside = seg.path;
  aside += ".damaged-" + std::to_string(from);
  if (auto st = write_file_atomic(aside, bytes.subspan(from, to - from)); !st) {
    return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
  }
  ++s.counters.corrupt_segments;
  s.counters.quarantined_bytes += to - from;
  s.counters.quarantined.push_back(aside.string());
  return aside;
}

struct Recovered {
  std::shared_ptr<Segment> seg;  // null: nothing left of the file
  std::optional<Found> split;    // intact records after damage, now a segment file of their own
};

// Reads, verifies and (if needed) repairs one segment file.
SpoolResult<Recovered> recover_segment(Spool::State& s, const Found& f, bool newest) {
  auto seg = std::make_shared<Segment>();
  seg->path = f.path;
  seg->fd = ::open(f.path.c_str(), O_RDWR | O_CLOEXEC);
  if (seg->fd < 0) return unexpected(errno_error("cannot open", f.path));
  auto bytes = read_whole(seg->fd, f.path);
  if (!bytes) return unexpected(bytes.error());
  auto scan = format::scan_segment(*bytes, s.scan_limit());
  if (scan.stop == format::ScanStop::kBadHeader || scan.first_id != f.first_id) {
    // A newest segment shorter than its header was being created when the
    // process died: no record was ever acknowledged from it.
    if (newest && bytes->size() < format::kSegmentHeaderSize) {
      ++s.counters.torn_tail_truncations;
      s.counters.torn_bytes += bytes->size();
      ::unlink(f.path.c_str());
      return Recovered{};
    }
    // A damaged header: without its first id the records cannot be placed
    // in order. Strict refuses; quarantine moves the file aside whole.
    if (s.opt.on_corruption == OnCorruption::kFail) {
      return unexpected(spool_error(SpoolErrorCode::kCorrupt, f.path.string() + ": bad segment header"));
    }
    if (auto a = move_aside(s, *seg, *bytes, 0, bytes->size()); !a) return unexpected(a.error());
    ::unlink(f.path.c_str());
    return Recovered{};
  }
  seg->first_id = scan.first_id;
  seg->records = scan.records;
  seg->index = std::move(scan.index);
  seg->size = scan.valid_end;
  Recovered out;
  out.seg = seg;
  if (scan.stop == format::ScanStop::kClean) return out;
  if (scan.stop == format::ScanStop::kTornTail && newest) {
    // An append interrupted by a crash leaves exactly this, and such bytes
    // were never synced, so never answered to a device: the devices still
    // hold those readings. (Bytes cut off by other means are reported in
    // the same counters; the cloud's gap report shows any reading lost.)
    if (::ftruncate(seg->fd, static_cast<off_t>(scan.valid_end)) != 0 || ::fdatasync(seg->fd) != 0) {
      return unexpected(errno_error("cannot truncate", f.path));
    }
    ++s.counters.torn_tail_truncations;
    s.counters.torn_bytes += bytes->size() - scan.valid_end;
    return out;
  }
  const char* what = scan.stop == format::ScanStop::kTornTail ? "damaged tail in a sealed segment" : "damaged record";
  if (s.opt.on_corruption == OnCorruption::kFail) {
    return unexpected(spool_error(SpoolErrorCode::kCorrupt, f.path.string() + ": " + what + " at offset " +
                                                                std::to_string(scan.valid_end)));
  }
  // Keep every intact record: the prefix stays here, the damaged bytes go
  // aside, and the records after them (if any) become their own segment,
  // written before this one is cut so a crash in between loses nothing.
  const std::size_t damaged_end = scan.stop == format::ScanStop::kCorrupt ? scan.resume_offset : bytes->size();
  if (auto a = move_aside(s, *seg, *bytes, scan.valid_end, damaged_end); !a) return unexpected(a.error());
  if (scan.stop == format::ScanStop::kCorrupt) {
    auto frame = format::parse_frame(ByteSpan(*bytes).subspan(scan.resume_offset), s.scan_limit());
    if (!frame) return unexpected(spool_error(SpoolErrorCode::kCorrupt, f.path.string() + ": resume point vanished"));
    Bytes rest;
    format::append_segment_header(frame->id, rest);
    rest.insert(rest.end(), bytes->begin() + static_cast<std::ptrdiff_t>(scan.resume_offset), bytes->end());
    fs::path rest_path = segment_path(s.dir, frame->id);
    if (auto st = write_file_atomic(rest_path, rest); !st) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
    out.split = Found{frame->id, rest_path};
  }
  if (::ftruncate(seg->fd, static_cast<off_t>(scan.valid_end)) != 0 || ::fdatasync(seg->fd) != 0) {
    return unexpected(errno_error("cannot truncate", seg->path));
  }
  return out;
}

Result<void, SpoolError> lock_dir(Spool::State& s) {
  fs::path p = s.dir / "LOCK";
  s.lock_fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s.lock_fd < 0) return unexpected(errno_error("cannot open", p));
  if (::flock(s.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return unexpected(spool_error(SpoolErrorCode::kLocked, s.dir.string() + " is in use by another process"));
    return unexpected(errno_error("cannot lock", p));
  }
  return {};
}

Result<void, SpoolError> open_ack(Spool::State& s) {
  fs::path p = s.dir / "ack";
  auto st = s.ack_file.open(p, s.acked);
  if (st) return {};
  if (!s.ack_file.corrupt()) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
  if (s.opt.on_corruption == OnCorruption::kFail) {
    return unexpected(spool_error(SpoolErrorCode::kCorrupt,
                                  st.error().message + " (on_damage = \"quarantine\" rebuilds it from the segments)"));
  }
  // Rebuilt once the segments are read (Spool::open): records still on disk
  // count as pending, so some may be sent again (duplicates the cloud drops),
  // never lost.
  fs::path aside = p;
  aside += ".damaged";
  std::error_code ec;
  fs::rename(p, aside, ec);
  ++s.counters.corrupt_segments;
  s.counters.quarantined.push_back(aside.string());
  s.counters.ack_rebuilt = true;
  st = s.ack_file.open(p, s.acked);
  if (!st) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
  return {};
}

}  // namespace

Spool::Spool(std::unique_ptr<State> s) : s_(std::move(s)) {}
Spool::~Spool() = default;

SpoolResult<std::unique_ptr<Spool>> Spool::open(const fs::path& dir, const SpoolOptions& options) {
  const std::size_t min_segment = format::kSegmentHeaderSize + format::frame_size(options.max_record_bytes);
  if (options.max_record_bytes == 0 || options.max_segment_bytes < min_segment ||
      options.max_segment_bytes > 0xFFFFFFFFull || options.max_total_bytes < 2 * options.max_segment_bytes ||
      options.max_concurrent_syncs < 1) {
    return unexpected(spool_error(SpoolErrorCode::kTooLarge,
                                  "spool options: need 0 < record <= segment - 32 <= 4 GiB, total >= 2 segments, syncs >= 1"));
  }
  auto s = std::make_unique<State>();
  s->dir = dir;
  s->opt = options;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unexpected(spool_error(SpoolErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message()));
  ::chmod(dir.c_str(), 0700);
  if (auto st = lock_dir(*s); !st) return unexpected(st.error());
  if (auto st = open_ack(*s); !st) return unexpected(st.error());
  s->persisted_ack = s->acked;

  auto found = list_segments(dir);
  if (!found) return unexpected(found.error());
  std::uint64_t prev_end = 0;  // one past the last id seen
  for (std::size_t i = 0; i < found->size(); ++i) {
    auto rec = recover_segment(*s, (*found)[i], i + 1 == found->size());
    if (!rec) return unexpected(rec.error());
    // Intact records after damage were split into a segment of their own:
    // recover it next, in id order.
    if (rec->split) found->insert(found->begin() + static_cast<std::ptrdiff_t>(i) + 1, *rec->split);
    auto& seg = rec->seg;
    if (!seg) continue;
    if (prev_end != 0 && seg->first_id < prev_end) {
      return unexpected(spool_error(SpoolErrorCode::kCorrupt, seg->path.string() + ": ids overlap the previous segment"));
    }
    if (prev_end != 0 && seg->first_id > prev_end) s->counters.id_gaps += seg->first_id - prev_end;
    prev_end = seg->first_id + seg->records;
    s->segments.push_back(std::move(seg));
  }
  if (s->counters.ack_rebuilt) {
    // Every record before the oldest segment was acknowledged (a segment is
    // deleted only once all of it is), so the cursor restarts just below it.
    const std::uint64_t oldest = s->segments.empty() ? prev_end : s->segments.front()->first_id;
    s->acked = oldest > 0 ? oldest - 1 : 0;
    if (s->acked > 0) {
      if (auto st = s->ack_file.write(s->acked); !st) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
    }
    s->persisted_ack = s->acked;
  }

  s->next_id = std::max<std::uint64_t>({s->acked + 1, prev_end, 1});
  if (!s->segments.empty()) {
    auto& last = *s->segments.back();
    s->active_open = last.first_id + last.records == s->next_id && last.size < s->opt.max_segment_bytes;
    if (s->active_open && ::fdatasync(last.fd) != 0) return unexpected(errno_error("cannot sync", last.path));
  }
  s->written_id = s->durable_id = s->next_id - 1;

  // Segments that are fully acknowledged (a crash came between the cursor
  // write and the unlink) or empty and sealed go now.
  std::deque<std::shared_ptr<Segment>> keep;
  for (std::size_t i = 0; i < s->segments.size(); ++i) {
    auto& seg = s->segments[i];
    bool active = s->active_open && i + 1 == s->segments.size();
    if (!active && (seg->records == 0 || seg->last_id() <= s->acked)) {
      ::unlink(seg->path.c_str());
      continue;
    }
    s->disk_bytes += seg->size;
    keep.push_back(seg);
  }
  s->segments = std::move(keep);
  return std::unique_ptr<Spool>(new Spool(std::move(s)));
}

}  // namespace armored::spool
