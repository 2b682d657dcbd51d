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
#include <map>
#include <regex>
#include <set>

#include "common/file_io.h"
#include "spool/mirror_merge.h"
#include "spool/internal/spool_state.h"

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

Result<void, SpoolError> lock_dir(const fs::path& dir, int& out_fd) {
  fs::path p = dir / "LOCK";
  out_fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (out_fd < 0) return unexpected(errno_error("cannot open", p));
  if (::flock(out_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return unexpected(spool_error(SpoolErrorCode::kLocked, dir.string() + " is in use by another process"));
    return unexpected(errno_error("cannot lock", p));
  }
  return {};
}

Result<void, SpoolError> make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unexpected(spool_error(SpoolErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message()));
  ::chmod(dir.c_str(), 0700);
  return {};
}

// A mirror in the spool directory (or the directory itself) would share its
// file names and its fate: refused before anything is created.
Result<void, SpoolError> check_mirror_dir(const fs::path& dir, const fs::path& mirror) {
  std::error_code ec1, ec2;
  const fs::path d = fs::weakly_canonical(fs::absolute(dir), ec1);
  const fs::path m = fs::weakly_canonical(fs::absolute(mirror), ec2);
  if (ec1 || ec2) return unexpected(spool_error(SpoolErrorCode::kIo, "cannot resolve the mirror " + mirror.string()));
  if (std::mismatch(d.begin(), d.end(), m.begin(), m.end()).first == d.end()) {
    return unexpected(spool_error(SpoolErrorCode::kBadOptions, "spool mirror " + mirror.string() + " is the spool directory " +
                                                                   dir.string() + " or inside it; it must be a directory of its own"));
  }
  return {};
}

// Overwrites `ranges` of the file `fd` with the same ranges of `from`, then syncs.
Result<void, SpoolError> overwrite(int fd, const fs::path& p, ByteSpan from, const std::vector<format::ByteRange>& ranges) {
  for (const auto& r : ranges) {
    if (r.to > from.size()) return unexpected(spool_error(SpoolErrorCode::kCorrupt, p.string() + ": repair range past its source"));
    if (auto st = write_all(fd, from.subspan(r.from, r.size()), r.from, p); !st) return st;
  }
  if (!ranges.empty() && ::fdatasync(fd) != 0) return unexpected(errno_error("cannot sync", p));
  return {};
}

std::string describe_repair(const format::CopyRepair& r, std::size_t copy_size) {
  const std::size_t past_end = r.ranges.back().to > copy_size ? r.ranges.back().to - std::max(copy_size, r.ranges.back().from) : 0;
  std::string out = std::to_string(r.ranges.size()) + (r.ranges.size() == 1 ? " range" : " ranges") + " from offset " +
                    std::to_string(r.ranges.front().from);
  if (past_end > 0) out += ", " + std::to_string(past_end) + " bytes of them past the end it had";
  return out;
}

// Both copies of one segment: each record intact in either is made intact
// in both (merge_copies decides; this applies it).
Result<void, SpoolError> repair_pair(Spool::State& s, std::uint64_t first_id, const fs::path& pp, const fs::path& mp) {
  struct Copy {
    int fd = -1;
    ~Copy() {
      if (fd >= 0) ::close(fd);
    }
  } p, m;
  p.fd = ::open(pp.c_str(), O_RDWR | O_CLOEXEC);
  if (p.fd < 0) return unexpected(errno_error("cannot open", pp));
  m.fd = ::open(mp.c_str(), O_RDWR | O_CLOEXEC);
  if (m.fd < 0) return unexpected(errno_error("cannot open", mp));
  auto pb = read_whole(p.fd, pp);
  if (!pb) return unexpected(pb.error());
  auto mb = read_whole(m.fd, mp);
  if (!mb) return unexpected(mb.error());
  const auto plan = format::merge_copies(*pb, *mb, first_id, s.scan_limit());
  // Neither header is valid: the primary's recovery decides (quarantine
  // or refuse) and the mirror then follows it.
  if (plan.headers_bad) return {};
  if (auto st = overwrite(p.fd, pp, *mb, plan.primary.ranges); !st) return st;
  if (auto st = overwrite(m.fd, mp, *pb, plan.mirror.ranges); !st) return st;
  const std::string name = pp.filename().string();
  if (!plan.primary.ranges.empty()) {
    ++s.counters.mirror_repairs;
    s.counters.mirror_repaired_bytes += plan.primary.bytes();
    s.counters.mirror_log.push_back("repaired " + std::to_string(plan.primary.bytes()) + " bytes of " + name +
                                    " from the mirror (" + describe_repair(plan.primary, pb->size()) + ")");
  }
  if (!plan.mirror.ranges.empty()) {
    ++s.counters.mirror_repairs;
    s.counters.mirror_repaired_bytes += plan.mirror.bytes();
    s.counters.mirror_log.push_back("repaired " + std::to_string(plan.mirror.bytes()) + " bytes of the mirror's " + name +
                                    " from the primary (" + describe_repair(plan.mirror, mb->size()) + ")");
  }
  return {};
}

// First step of opening a mirrored spool, before the primary is recovered:
// every segment either directory holds is repaired in each copy from the
// other. A segment only the mirror holds is copied to the primary, unless
// every record in it is acknowledged (a crash came between the two
// unlinks), then it goes. A segment only the primary holds is copied to the
// mirror later (follow_primary), once the primary is verified.
Result<void, SpoolError> repair_from_each_other(Spool::State& s) {
  auto prim = list_segments(s.dir);
  if (!prim) return unexpected(prim.error());
  auto mir = list_segments(*s.opt.mirror_dir);
  if (!mir) return unexpected(mir.error());
  std::map<std::uint64_t, std::pair<std::optional<fs::path>, std::optional<fs::path>>> all;
  for (const auto& f : *prim) all[f.first_id].first = f.path;
  for (const auto& f : *mir) all[f.first_id].second = f.path;
  for (auto it = all.begin(); it != all.end(); ++it) {
    const auto& [first_id, copies] = *it;
    if (copies.first && copies.second) {
      if (auto st = repair_pair(s, first_id, *copies.first, *copies.second); !st) return st;
      continue;
    }
    if (!copies.second) continue;
    // Ids of a segment end before the next segment's first id.
    const auto next = std::next(it);
    if (next != all.end() && next->first - 1 <= s.acked) {
      ::unlink(copies.second->c_str());
      continue;
    }
    auto bytes = read_file(*copies.second, std::size_t{0xFFFFFFFF});
    if (!bytes) return unexpected(spool_error(SpoolErrorCode::kIo, bytes.error().message));
    const fs::path to = segment_path(s.dir, first_id);
    if (auto st = write_file_atomic(to, *bytes); !st) return unexpected(spool_error(SpoolErrorCode::kIo, st.error().message));
    ++s.counters.mirror_copied_segments;
    s.counters.mirror_copied_bytes += bytes->size();
    s.counters.mirror_log.push_back("restored " + to.filename().string() + " (" + std::to_string(bytes->size()) +
                                    " bytes), missing from the primary, from the mirror");
  }
  return {};
}

// Last step of opening a mirrored spool: the mirror is made equal to the
// recovered primary. The repair step left both copies equal up to where the
// primary's recovery may have cut or split, so the mirror only needs cutting
// or extending here; segments it lacks are copied whole (this builds a new
// mirror), and mirror segments the primary no longer has are deleted.
Result<void, SpoolError> follow_primary(Spool::State& s) {
  const fs::path& mdir = *s.opt.mirror_dir;
  bool dir_changed = false;
  std::set<std::uint64_t> keep;
  std::uint64_t built_segments = 0, built_bytes = 0;
  for (auto& seg : s.segments) {
    keep.insert(seg->first_id);
    seg->mirror_path = segment_path(mdir, seg->first_id);
    const fs::path& mp = seg->mirror_path;
    seg->mirror_fd = ::open(mp.c_str(), O_RDWR | O_CLOEXEC);
    const bool existed = seg->mirror_fd >= 0;
    if (!existed) seg->mirror_fd = ::open(mp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (seg->mirror_fd < 0) return unexpected(errno_error("cannot open", mp));
    struct stat st {};
    if (::fstat(seg->mirror_fd, &st) != 0) return unexpected(errno_error("cannot stat", mp));
    const auto msize = static_cast<std::uint64_t>(st.st_size);
    if (msize == seg->size) continue;
    const std::string name = seg->path.filename().string();
    if (msize > seg->size) {
      if (::ftruncate(seg->mirror_fd, static_cast<off_t>(seg->size)) != 0) return unexpected(errno_error("cannot truncate", mp));
      ++s.counters.mirror_repairs;
      s.counters.mirror_repaired_bytes += msize - seg->size;
      s.counters.mirror_log.push_back("cut " + std::to_string(msize - seg->size) + " bytes of the mirror's " + name +
                                      " past the primary's last valid record");
    } else {
      Bytes buf(static_cast<std::size_t>(std::min<std::uint64_t>(seg->size - msize, 1u << 20)));
      for (std::uint64_t at = msize; at < seg->size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), seg->size - at));
        ssize_t r = ::pread(seg->fd, buf.data(), n, static_cast<off_t>(at));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return unexpected(errno_error("cannot read", seg->path));
        if (auto w = write_all(seg->mirror_fd, ByteSpan(buf).first(static_cast<std::size_t>(r)), at, mp); !w) return w;
        at += static_cast<std::uint64_t>(r);
      }
      if (existed && msize > 0) {
        ++s.counters.mirror_repairs;
        s.counters.mirror_repaired_bytes += seg->size - msize;
        s.counters.mirror_log.push_back("repaired " + std::to_string(seg->size - msize) + " bytes of the mirror's " + name +
                                        " from the primary (the end it lacked)");
      } else {
        ++built_segments;
        built_bytes += seg->size;
        s.counters.mirror_log.push_back("copied " + name + " (" + std::to_string(seg->size) +
                                        " bytes, verified) to the mirror, which lacked it");
      }
    }
    if (::fdatasync(seg->mirror_fd) != 0) return unexpected(errno_error("cannot sync", mp));
    dir_changed = dir_changed || !existed;
  }
  s.counters.mirror_copied_segments += built_segments;
  s.counters.mirror_copied_bytes += built_bytes;
  auto mir = list_segments(mdir);
  if (!mir) return unexpected(mir.error());
  for (const auto& f : *mir) {
    if (keep.count(f.first_id) != 0) continue;
    ::unlink(f.path.c_str());
    dir_changed = true;
  }
  if (dir_changed && !sync_dir(mdir)) return unexpected(errno_error("cannot sync", mdir));
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
  if (options.mirror_dir) {
    if (auto st = check_mirror_dir(dir, *options.mirror_dir); !st) return unexpected(st.error());
  }
  auto s = std::make_unique<State>();
  s->dir = dir;
  s->opt = options;
  if (auto st = make_dir(dir); !st) return unexpected(st.error());
  if (auto st = lock_dir(dir, s->lock_fd); !st) return unexpected(st.error());
  if (s->mirrored()) {
    if (auto st = make_dir(*options.mirror_dir); !st) return unexpected(st.error());
    if (auto st = lock_dir(*options.mirror_dir, s->mirror_lock_fd); !st) return unexpected(st.error());
  }
  if (auto st = open_ack(*s); !st) return unexpected(st.error());
  s->persisted_ack = s->acked;
  if (s->mirrored()) {
    if (auto st = repair_from_each_other(*s); !st) return unexpected(st.error());
  }

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
  if (s->mirrored()) {
    if (auto st = follow_primary(*s); !st) return unexpected(st.error());
  }
  return std::unique_ptr<Spool>(new Spool(std::move(s)));
}

}  // namespace armored::spool
