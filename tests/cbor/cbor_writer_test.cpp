// Deterministic encoding: the RFC 8949 Appendix A examples we can express.

#include <gtest/gtest.h>

#include <array>

#include "cbor/writer.h"
#include "common/hex.h"

namespace armored::cbor {
namespace {

std::string enc(auto fn) {
  Bytes out;
  Writer w(out);
  fn(w);
  return to_hex(out);
}

TEST(CborWriter, Rfc8949AppendixA) {
  EXPECT_EQ(enc([](Writer& w) { w.uint(0); }), "00");
  EXPECT_EQ(enc([](Writer& w) { w.uint(23); }), "17");
  EXPECT_EQ(enc([](Writer& w) { w.uint(24); }), "1818");
  EXPECT_EQ(enc([](Writer& w) { w.uint(100); }), "1864");
  EXPECT_EQ(enc([](Writer& w) { w.uint(1000); }), "1903e8");
  EXPECT_EQ(enc([](Writer& w) { w.uint(1000000); }), "1a000f4240");
  EXPECT_EQ(enc([](Writer& w) { w.uint(1000000000000); }), "1b000000e8d4a51000");
  EXPECT_EQ(enc([](Writer& w) { w.uint(18446744073709551615ull); }), "1bffffffffffffffff");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-1); }), "20");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-10); }), "29");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-100); }), "3863");
  EXPECT_EQ(enc([](Writer& w) { w.integer(-1000); }), "3903e7");
  EXPECT_EQ(enc([](Writer& w) { w.nint(18446744073709551615ull); }), "3bffffffffffffffff");
  EXPECT_EQ(enc([](Writer& w) { w.boolean(false); }), "f4");
  EXPECT_EQ(enc([](Writer& w) { w.boolean(true); }), "f5");
  EXPECT_EQ(enc([](Writer& w) { w.null(); }), "f6");
  EXPECT_EQ(enc([](Writer& w) { w.bstr({}); }), "40");
  EXPECT_EQ(enc([](Writer& w) { w.bstr(Bytes{1, 2, 3, 4}); }), "4401020304");
  EXPECT_EQ(enc([](Writer& w) { w.tstr(""); }), "60");
  EXPECT_EQ(enc([](Writer& w) { w.tstr("IETF"); }), "6449455446");
  EXPECT_EQ(enc([](Writer& w) { w.tstr("\xc3\xbc"); }), "62c3bc");
  EXPECT_EQ(enc([](Writer& w) { w.array(0); }), "80");
  EXPECT_EQ(enc([](Writer& w) { w.array(3).uint(1).uint(2).uint(3); }), "83010203");
  EXPECT_EQ(enc([](Writer& w) { w.map(2).uint(1).uint(2).uint(3).uint(4); }), "a201020304");
  EXPECT_EQ(enc([](Writer& w) { w.tag(1).uint(1363896240); }), "c11a514b67b0");
  EXPECT_EQ(enc([](Writer& w) { w.tag(16).array(0); }), "d080");
}

TEST(CborWriter, FixedBufferOverflowIsReported) {
  std::array<std::uint8_t, 4> buf{};
  Writer w(buf);
  w.bstr(Bytes{1, 2, 3});
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 4u);
  w.uint(0);
  EXPECT_FALSE(w.ok());
}

}  // namespace
}  // namespace armored::cbor
