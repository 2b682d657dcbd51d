#include "spool/segment_format.h"

#include <algorithm>

#include "spool/internal/crc32c.h"

namespace armored::spool::format {
namespace {

void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int s = (bytes - 1) * 8; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t frame_crc(const std::uint8_t* header, ByteSpan payload) {
  std::uint32_t c = crc32c(ByteSpan(header, 12));  // length and id
  return crc32c(payload, c);
}

}  // namespace

// Only offsets whose id field is plausible are checked in full, so a torn
// tail of garbage costs one pass of cheap comparisons.
std::optional<std::size_t> valid_frame_after(ByteSpan file, std::size_t from, std::uint64_t expected_id,
                                             std::size_t max_payload) {
  if (file.size() < kFrameHeaderSize) return std::nullopt;
  const std::uint64_t max_ahead = (file.size() - from) / (kFrameHeaderSize + 1) + 1;
  for (std::size_t o = from; o + kFrameHeaderSize <= file.size(); ++o) {
    std::uint64_t id = get_be(file.data() + o + 4, 8);
    if (id < expected_id || id - expected_id > max_ahead) continue;
    if (parse_frame(file.subspan(o), max_payload)) return o;
  }
  return std::nullopt;
}

void append_segment_header(std::uint64_t first_id, Bytes& out) {
  out.insert(out.end(), kSegmentMagic.begin(), kSegmentMagic.end());
  put_be(out, first_id, 8);
}

std::optional<std::uint64_t> parse_segment_header(ByteSpan bytes) {
  if (bytes.size() < kSegmentHeaderSize) return std::nullopt;
  if (!std::equal(kSegmentMagic.begin(), kSegmentMagic.end(), bytes.begin())) return std::nullopt;
  return get_be(bytes.data() + 8, 8);
}

void append_frame(std::uint64_t id, ByteSpan payload, Bytes& out) {
  std::size_t at = out.size();
  put_be(out, payload.size(), 4);
  put_be(out, id, 8);
  std::uint32_t crc = frame_crc(out.data() + at, payload);
  put_be(out, crc, 4);
  out.insert(out.end(), payload.begin(), payload.end());
}

Result<Frame, FrameError> parse_frame(ByteSpan buf, std::size_t max_payload) {
  if (buf.size() < kFrameHeaderSize) return unexpected(FrameError::kTruncated);
  const std::uint8_t* h = buf.data();
  std::size_t length = get_be(h, 4);
  if (length == 0 || length > max_payload) return unexpected(FrameError::kBadLength);
  if (buf.size() - kFrameHeaderSize < length) return unexpected(FrameError::kTruncated);
  ByteSpan payload = buf.subspan(kFrameHeaderSize, length);
  if (frame_crc(h, payload) != static_cast<std::uint32_t>(get_be(h + 12, 4))) {
    return unexpected(FrameError::kBadCrc);
  }
  return Frame{get_be(h + 4, 8), payload, kFrameHeaderSize + length};
}

SegmentScan scan_segment(ByteSpan file, std::size_t max_payload) {
  SegmentScan s;
  auto first = parse_segment_header(file);
  if (!first) return s;
  s.first_id = *first;
  std::size_t off = kSegmentHeaderSize;
  std::uint64_t expected = s.first_id;
  while (off < file.size()) {
    auto f = parse_frame(file.subspan(off), max_payload);
    if (!f || f->id != expected) break;
    if (s.records % kIndexStride == 0) s.index.push_back(static_cast<std::uint32_t>(off));
    off += f->size;
    ++s.records;
    ++expected;
  }
  s.valid_end = off;
  s.bad_offset = off;
  if (off == file.size()) {
    s.stop = ScanStop::kClean;
  } else if (auto resume = valid_frame_after(file, off, expected, max_payload)) {
    s.stop = ScanStop::kCorrupt;
    s.resume_offset = *resume;
  } else {
    s.stop = ScanStop::kTornTail;
  }
  return s;
}

}  // namespace armored::spool::format
