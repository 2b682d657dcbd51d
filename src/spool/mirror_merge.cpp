#include "spool/mirror_merge.h"

#include <algorithm>
#include <optional>

#include "spool/segment_format.h"

namespace armored::spool::format {
namespace {

// Adds to `out` the runs of [from, to) where `dst` differs from `src` (or
// ends before), merging a run with the previous one when they touch.
void add_differences(ByteSpan src, ByteSpan dst, std::size_t from, std::size_t to, CopyRepair& out) {
  std::size_t i = from;
  while (i < to) {
    while (i < to && i < dst.size() && src[i] == dst[i]) ++i;
    if (i == to) return;
    std::size_t run = i;
    while (i < to && (i >= dst.size() || src[i] != dst[i])) ++i;
    if (!out.ranges.empty() && out.ranges.back().to == run) {
      out.ranges.back().to = i;
    } else {
      out.ranges.push_back({run, i});
    }
  }
}

// The size of the record at `off` if it is valid and carries `id`.
std::optional<std::size_t> record_at(ByteSpan file, std::size_t off, std::uint64_t id, std::size_t max_payload) {
  if (off >= file.size()) return std::nullopt;
  auto f = parse_frame(file.subspan(off), max_payload);
  if (!f || f->id != id) return std::nullopt;
  return f->size;
}

bool header_ok(ByteSpan file, std::uint64_t first_id) {
  auto h = parse_segment_header(file);
  return h && *h == first_id;
}

}  // namespace

std::size_t CopyRepair::bytes() const {
  std::size_t n = 0;
  for (const auto& r : ranges) n += r.size();
  return n;
}

MirrorMerge merge_copies(ByteSpan primary, ByteSpan mirror, std::uint64_t first_id, std::size_t max_payload) {
  MirrorMerge m;
  const bool hp = header_ok(primary, first_id), hm = header_ok(mirror, first_id);
  if (!hp && !hm) {
    m.headers_bad = true;
    return m;
  }
  if (hp) add_differences(primary, mirror, 0, kSegmentHeaderSize, m.mirror);
  if (!hp) add_differences(mirror, primary, 0, kSegmentHeaderSize, m.primary);
  std::size_t off = kSegmentHeaderSize;
  std::uint64_t expected = first_id;
  m.valid_end = off;
  const std::size_t end = std::max(primary.size(), mirror.size());
  while (off < end) {
    auto p = record_at(primary, off, expected, max_payload);
    auto q = p ? std::nullopt : record_at(mirror, off, expected, max_payload);
    if (p) {
      add_differences(primary, mirror, off, off + *p, m.mirror);
      off += *p;
    } else if (q) {
      add_differences(mirror, primary, off, off + *q, m.primary);
      off += *q;
    }
    if (p || q) {
      ++expected;
      m.valid_end = off;
      continue;
    }
    // Damaged in both copies at the same offset: resume at the first record
    // either copy holds intact later on, if any.
    auto rp = valid_frame_after(primary, off, expected, max_payload);
    auto rm = valid_frame_after(mirror, off, expected, max_payload);
    if (!rp && !rm) break;  // a tail with no valid record in either copy
    const bool from_primary = rp && (!rm || *rp <= *rm);
    const std::size_t resume = from_primary ? *rp : *rm;
    auto f = parse_frame((from_primary ? primary : mirror).subspan(resume), max_payload);
    if (resume > off) {
      m.damaged_in_both.push_back({off, resume});
      // The primary keeps its own damaged bytes for the quarantine file; if
      // it ends inside the range, the mirror's bytes fill it so that the
      // records after it stay at their offsets.
      if (primary.size() < resume) {
        m.primary.ranges.push_back({std::max(off, primary.size()), resume});
      }
    }
    off = resume;
    expected = f->id;
  }
  return m;
}

}  // namespace armored::spool::format
