#pragma once
// On-disk format of spool segments (sans-I/O: bytes in, records out; the
// libFuzzer target spool_segment_fuzz drives scan_segment). docs/spool.md
// has the byte layout.
//
//   segment = header record*
//   header  = "ARMSPL1\n" first_id:u64be                      (16 bytes)
//   record  = length:u32be id:u64be crc:u32be payload[length]
//   crc     = CRC-32C over length, id and payload

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::spool::format {

inline constexpr std::size_t kSegmentHeaderSize = 16;
inline constexpr std::size_t kFrameHeaderSize = 16;
inline constexpr std::array<std::uint8_t, 8> kSegmentMagic = {'A', 'R', 'M', 'S', 'P', 'L', '1', '\n'};
// Every kIndexStride-th record's offset is kept in memory to find records fast.
inline constexpr std::size_t kIndexStride = 64;

void append_segment_header(std::uint64_t first_id, Bytes& out);
// The first id, or nullopt if the bytes are not a segment header.
std::optional<std::uint64_t> parse_segment_header(ByteSpan bytes);

// Appends one framed record.
void append_frame(std::uint64_t id, ByteSpan payload, Bytes& out);
inline std::size_t frame_size(std::size_t payload) { return kFrameHeaderSize + payload; }

enum class FrameError : std::uint8_t {
  kTruncated,  // fewer bytes than the header or the length announces
  kBadLength,  // length 0 or above the payload limit
  kBadCrc,     // checksum mismatch
};

struct Frame {
  std::uint64_t id;
  ByteSpan payload;
  std::size_t size;  // header + payload
};

// Parses the record at the start of `buf`.
Result<Frame, FrameError> parse_frame(ByteSpan buf, std::size_t max_payload);

enum class ScanStop : std::uint8_t {
  kClean,      // every byte belongs to a valid record
  kTornTail,   // invalid bytes from bad_offset to the end, no valid record after them
  kCorrupt,    // an invalid record at bad_offset with a valid record later on
  kBadHeader,  // not a segment (or a segment header cut short)
};

struct SegmentScan {
  ScanStop stop = ScanStop::kBadHeader;
  std::uint64_t first_id = 0;
  std::uint64_t records = 0;      // valid records, ids first_id .. first_id+records-1
  std::size_t valid_end = 0;      // offset just after the last valid record
  std::size_t bad_offset = 0;     // where the scan stopped (kTornTail / kCorrupt)
  std::size_t resume_offset = 0;  // kCorrupt: the first valid record after the damage
  std::vector<std::uint32_t> index;  // offset of every kIndexStride-th record
};

// After an invalid record at `from`, the offset of the first valid record
// whose id is `expected_id` or later, if any.
std::optional<std::size_t> valid_frame_after(ByteSpan file, std::size_t from, std::uint64_t expected_id,
                                             std::size_t max_payload);

// Walks a whole segment image. Records must carry consecutive ids starting
// at the header's first_id; the first one that does not stops the scan.
SegmentScan scan_segment(ByteSpan file, std::size_t max_payload);

}  // namespace armored::spool::format
