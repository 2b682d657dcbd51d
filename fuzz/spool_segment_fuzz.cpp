// Scans arbitrary bytes as a spool segment (what open() does with every file
// it finds after a crash) and checks the scan's claims by walking the
// records it says are valid.
#include <cstdlib>

#include "spool/segment_format.h"

using namespace armored::spool::format;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  armored::ByteSpan file(data, size);
  constexpr std::size_t kLimit = 1 << 16;
  (void)parse_frame(file, kLimit);
  SegmentScan s = scan_segment(file, kLimit);
  if (s.stop == ScanStop::kBadHeader) return 0;
  if (s.valid_end > size || s.valid_end < kSegmentHeaderSize) std::abort();
  if ((s.stop == ScanStop::kClean) != (s.valid_end == size)) std::abort();
  if (s.index.size() != (s.records + kIndexStride - 1) / kIndexStride) std::abort();
  std::size_t off = kSegmentHeaderSize;
  for (std::uint64_t i = 0; i < s.records; ++i) {
    if (i % kIndexStride == 0 && s.index[i / kIndexStride] != off) std::abort();
    auto f = parse_frame(file.subspan(off), kLimit);
    if (!f || f->id != s.first_id + i) std::abort();
    off += f->size;
  }
  if (off != s.valid_end) std::abort();
  return 0;
}
