#include "spool/segment_format.h"

#include <gtest/gtest.h>

namespace armored::spool::format {
namespace {

constexpr std::size_t kMax = 4096;

Bytes segment(std::uint64_t first, int n, std::vector<std::size_t>* offsets = nullptr) {
  Bytes b;
  append_segment_header(first, b);
  for (int i = 0; i < n; ++i) {
    if (offsets) offsets->push_back(b.size());
    std::string p = "record-" + std::to_string(first + i) + std::string(static_cast<std::size_t>(i % 7), 'x');
    append_frame(first + i, as_bytes(p), b);
  }
  return b;
}

TEST(SegmentFormat, FrameRoundTrip) {
  Bytes b;
  append_frame(42, as_bytes("hello"), b);
  ASSERT_EQ(b.size(), frame_size(5));
  auto f = parse_frame(b, kMax);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 42u);
  EXPECT_EQ(as_string(f->payload), "hello");
  EXPECT_EQ(f->size, b.size());
}

TEST(SegmentFormat, FrameErrors) {
  Bytes b;
  append_frame(1, as_bytes("payload"), b);
  for (std::size_t n = 0; n < b.size(); ++n) {
    auto f = parse_frame(ByteSpan(b.data(), n), kMax);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), FrameError::kTruncated) << n;
  }
  for (std::size_t i = 4; i < b.size(); ++i) {  // any flipped bit after the length
    Bytes c = b;
    c[i] ^= 0x10;
    auto f = parse_frame(c, kMax);
    ASSERT_FALSE(f) << i;
    EXPECT_EQ(f.error(), FrameError::kBadCrc) << i;
  }
  Bytes zero(32, 0);
  EXPECT_EQ(parse_frame(zero, kMax).error(), FrameError::kBadLength);
  EXPECT_EQ(parse_frame(b, 6).error(), FrameError::kBadLength);  // over the limit
}

TEST(SegmentFormat, ScanCleanSegment) {
  Bytes b = segment(100, 200);
  auto s = scan_segment(b, kMax);
  EXPECT_EQ(s.stop, ScanStop::kClean);
  EXPECT_EQ(s.first_id, 100u);
  EXPECT_EQ(s.records, 200u);
  EXPECT_EQ(s.valid_end, b.size());
  EXPECT_EQ(s.index.size(), 4u);  // records 0, 64, 128, 192
  EXPECT_EQ(s.index[0], kSegmentHeaderSize);
}

TEST(SegmentFormat, ScanHeaderOnlyAndBadHeader) {
  Bytes b = segment(7, 0);
  auto s = scan_segment(b, kMax);
  EXPECT_EQ(s.stop, ScanStop::kClean);
  EXPECT_EQ(s.records, 0u);
  b[0] = 'X';
  EXPECT_EQ(scan_segment(b, kMax).stop, ScanStop::kBadHeader);
  EXPECT_EQ(scan_segment(ByteSpan(b.data(), 15), kMax).stop, ScanStop::kBadHeader);
}

TEST(SegmentFormat, TruncatedLastRecordIsATornTail) {
  std::vector<std::size_t> offsets;
  Bytes b = segment(1, 10, &offsets);
  for (std::size_t cut = offsets.back() + 1; cut < b.size(); ++cut) {
    auto s = scan_segment(ByteSpan(b.data(), cut), kMax);
    EXPECT_EQ(s.stop, ScanStop::kTornTail) << cut;
    EXPECT_EQ(s.records, 9u);
    EXPECT_EQ(s.valid_end, offsets.back());
  }
}

TEST(SegmentFormat, ZeroFilledTailIsATornTail) {
  Bytes b = segment(1, 5);
  std::size_t end = b.size();
  b.resize(b.size() + 4096, 0);
  auto s = scan_segment(b, kMax);
  EXPECT_EQ(s.stop, ScanStop::kTornTail);
  EXPECT_EQ(s.valid_end, end);
}

TEST(SegmentFormat, DamageFollowedByValidRecordsIsCorruption) {
  std::vector<std::size_t> offsets;
  Bytes b = segment(1, 10, &offsets);
  b[offsets[4] + kFrameHeaderSize + 1] ^= 0xFF;  // payload of record 5
  auto s = scan_segment(b, kMax);
  EXPECT_EQ(s.stop, ScanStop::kCorrupt);
  EXPECT_EQ(s.records, 4u);
  EXPECT_EQ(s.bad_offset, offsets[4]);
  // Damaged length field: the following records are found all the same.
  b = segment(1, 10, &offsets);
  b[offsets[4]] = 0x7F;
  EXPECT_EQ(scan_segment(b, kMax).stop, ScanStop::kCorrupt);
}

TEST(SegmentFormat, IdsMustBeConsecutive) {
  Bytes b;
  append_segment_header(1, b);
  append_frame(1, as_bytes("a"), b);
  std::size_t at = b.size();
  append_frame(3, as_bytes("b"), b);  // skips 2
  auto s = scan_segment(b, kMax);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.bad_offset, at);
  EXPECT_EQ(s.stop, ScanStop::kCorrupt);
}

}  // namespace
}  // namespace armored::spool::format
