#include "common/bytes.h"

#include <gtest/gtest.h>

namespace armored {
namespace {

TEST(ByteReader, ReadsWithinBoundsAndRefusesPastTheEnd) {
  const std::uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05};
  ByteReader r(data);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  ASSERT_TRUE(r.read_u8(a));
  ASSERT_TRUE(r.read_u16be(b));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0203);
  std::uint32_t c = 0;
  EXPECT_FALSE(r.read_u32be(c));  // only 2 bytes left
  EXPECT_EQ(r.remaining(), 2u);   // a failed read does not move the cursor
  ByteSpan rest;
  EXPECT_FALSE(r.read_bytes(3, rest));
  ASSERT_TRUE(r.read_bytes(2, rest));
  EXPECT_EQ(rest[1], 0x05);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.read_u8(a));
}

TEST(ByteReader, ReadsVariableWidthIntegers) {
  const std::uint8_t data[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff};
  ByteReader r(data);
  std::uint64_t v = 0;
  ASSERT_TRUE(r.read_uint_be(5, v));
  EXPECT_EQ(v, 0x0100000000ull);
  EXPECT_FALSE(r.read_uint_be(9, v));
  ASSERT_TRUE(r.read_uint_be(2, v));
  EXPECT_EQ(v, 0x01ffull);
}

TEST(ByteWriter, WritesBigEndian) {
  Bytes out;
  ByteWriter w(out);
  w.u8(1);
  w.u16be(0x0203);
  w.u32be(0x04050607);
  w.str("ab");
  EXPECT_EQ(out, (Bytes{1, 2, 3, 4, 5, 6, 7, 'a', 'b'}));
}

}  // namespace
}  // namespace armored
