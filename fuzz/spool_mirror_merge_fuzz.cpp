// Merges arbitrary bytes as the two copies of a mirrored segment (what a
// mirrored open() does with every pair it finds) and checks the plan: every
// range can be taken from the copy it names, and once applied, both copies
// hold the same bytes up to the end of the last valid record, outside the
// ranges damaged in both. (Merging again need not find nothing: the search
// for a record after damage in both bounds ids by the file's length, which
// the repair may change; in real damage that only means a second open may
// repair a little more.)
#include <cstdlib>

#include "spool/mirror_merge.h"
#include "spool/segment_format.h"

using namespace armored::spool::format;

namespace {

armored::Bytes apply(armored::ByteSpan to, armored::ByteSpan from, const CopyRepair& r) {
  armored::Bytes out(to.begin(), to.end());
  for (const auto& range : r.ranges) {
    if (range.from >= range.to || range.to > from.size()) std::abort();
    if (out.size() < range.to) out.resize(range.to);
    std::copy(from.begin() + static_cast<std::ptrdiff_t>(range.from), from.begin() + static_cast<std::ptrdiff_t>(range.to),
              out.begin() + static_cast<std::ptrdiff_t>(range.from));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  constexpr std::size_t kLimit = 1 << 16;
  const std::size_t split = 2 + (std::size_t{data[0]} << 8 | data[1]) % (size - 1);
  armored::ByteSpan primary(data + 2, split - 2), mirror(data + split, size - split);
  auto header = parse_segment_header(primary);
  if (!header) header = parse_segment_header(mirror);
  const std::uint64_t first_id = header ? *header : 1;
  const MirrorMerge m = merge_copies(primary, mirror, first_id, kLimit);
  if (m.headers_bad) return 0;
  const armored::Bytes p2 = apply(primary, mirror, m.primary);
  const armored::Bytes m2 = apply(mirror, primary, m.mirror);
  if (p2.size() < m.valid_end || m2.size() < m.valid_end) std::abort();
  std::size_t d = 0;
  for (std::size_t i = 0; i < m.valid_end; ++i) {
    while (d < m.damaged_in_both.size() && m.damaged_in_both[d].to <= i) ++d;
    if (d < m.damaged_in_both.size() && m.damaged_in_both[d].from <= i) continue;
    if (p2[i] != m2[i]) std::abort();
  }
  return 0;
}
