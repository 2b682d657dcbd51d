#include "common/hex.h"

#include <gtest/gtest.h>

namespace armored {
namespace {

TEST(Hex, RoundTrips) {
  Bytes b{0x00, 0xab, 0xff, 0x10};
  EXPECT_EQ(to_hex(b), "00abff10");
  EXPECT_EQ(from_hex("00ABff10"), b);
  EXPECT_EQ(from_hex(""), Bytes{});
}

TEST(Hex, RejectsMalformedInput) {
  EXPECT_FALSE(from_hex("abc"));    // odd length
  EXPECT_FALSE(from_hex("zz"));     // not hex
  EXPECT_FALSE(from_hex("ab cd"));  // whitespace
}

}  // namespace
}  // namespace armored
