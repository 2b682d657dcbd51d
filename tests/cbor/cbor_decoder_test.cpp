// The strict decoder: accepts what the writer produces, rejects every
// non-deterministic or unbounded form with a specific error.

#include <gtest/gtest.h>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "common/hex.h"

namespace armored::cbor {
namespace {

Result<Item, DecodeError> dec(const std::string& hex, const Limits& l = {}) { return decode(*from_hex(hex), l); }

DecodeError err(const std::string& hex, const Limits& l = {}) {
  auto r = dec(hex, l);
  EXPECT_FALSE(r) << hex;
  return r ? DecodeError::kUnsupported : r.error();
}

TEST(CborDecoder, DecodesWhatTheWriterWrites) {
  Bytes b;
  Writer w(b);
  w.array(7).uint(500).integer(-7).bstr(Bytes{9, 9}).tstr("Encrypt0").map(1).uint(1).integer(-7).null();
  w.tag(16).boolean(true);
  auto r = decode(b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->type, Type::kArray);
  ASSERT_EQ(r->children.size(), 7u);
  EXPECT_EQ(r->children[0].uint_value, 500u);
  EXPECT_EQ(r->children[1].int_value(), -7);
  EXPECT_EQ(r->children[2].bytes, (Bytes{9, 9}));
  EXPECT_EQ(r->children[3].text(), "Encrypt0");
  ASSERT_NE(r->children[4].find(1), nullptr);
  EXPECT_EQ(r->children[4].find(1)->int_value(), -7);
  EXPECT_EQ(r->children[4].find(2), nullptr);
  EXPECT_EQ(r->children[5].type, Type::kNull);
  EXPECT_EQ(r->children[6].type, Type::kTag);
  EXPECT_EQ(r->children[6].uint_value, 16u);
  EXPECT_EQ(r->children[6].children[0].type, Type::kBool);
  EXPECT_EQ(to_hex(r->children[2].encoded), "420909");
}

TEST(CborDecoder, RejectsNonMinimalHeads) {
  EXPECT_EQ(err("1817"), DecodeError::kNonMinimal);        // 23 in two bytes
  EXPECT_EQ(err("190017"), DecodeError::kNonMinimal);
  EXPECT_EQ(err("1a0000ffff"), DecodeError::kNonMinimal);
  EXPECT_EQ(err("1b00000000ffffffff"), DecodeError::kNonMinimal);
  EXPECT_EQ(err("5801aa"), DecodeError::kNonMinimal);      // 1-byte bstr with 1-byte length
  EXPECT_EQ(err("980100"), DecodeError::kNonMinimal);
}

TEST(CborDecoder, RejectsIndefiniteLengths) {
  EXPECT_EQ(err("5f4101ff"), DecodeError::kIndefinite);
  EXPECT_EQ(err("9f01ff"), DecodeError::kIndefinite);
  EXPECT_EQ(err("bf0101ff"), DecodeError::kIndefinite);
  EXPECT_EQ(err("ff"), DecodeError::kIndefinite);
}

TEST(CborDecoder, RejectsTrailingAndTruncated) {
  EXPECT_EQ(err("0000"), DecodeError::kTrailingBytes);
  EXPECT_EQ(err(""), DecodeError::kTruncated);
  EXPECT_EQ(err("18"), DecodeError::kTruncated);
  EXPECT_EQ(err("4401"), DecodeError::kTruncated);
  EXPECT_EQ(err("8301"), DecodeError::kTruncated);
  EXPECT_EQ(err("c1"), DecodeError::kTruncated);
}

TEST(CborDecoder, RejectsBadUtf8AndDuplicateKeys) {
  EXPECT_EQ(err("61ff"), DecodeError::kBadUtf8);
  EXPECT_EQ(err("62c0af"), DecodeError::kBadUtf8);   // overlong '/'
  EXPECT_EQ(err("63eda080"), DecodeError::kBadUtf8); // surrogate
  EXPECT_EQ(err("a201020103"), DecodeError::kDuplicateKey);
}

TEST(CborDecoder, RejectsUnsupportedSimpleValues) {
  EXPECT_EQ(err("f97c00"), DecodeError::kUnsupported);  // half float
  EXPECT_EQ(err("f7"), DecodeError::kUnsupported);      // undefined
  EXPECT_EQ(err("1c"), DecodeError::kUnsupported);      // reserved additional info
}

TEST(CborDecoder, EnforcesLimits) {
  EXPECT_EQ(err("8181818101", {.max_depth = 3}), DecodeError::kTooDeep);
  EXPECT_TRUE(dec("81818101", {.max_depth = 3}));
  EXPECT_EQ(err("83010203", {.max_items = 3}), DecodeError::kTooLarge);
  EXPECT_EQ(err("43010203", {.max_string = 2}), DecodeError::kTooLarge);
  // A count far beyond the input is refused before any allocation.
  EXPECT_EQ(err("9bffffffffffffffff"), DecodeError::kTooLarge);
  EXPECT_EQ(err("5bffffffffffffffff"), DecodeError::kTooLarge);
  EXPECT_EQ(err("9903e8"), DecodeError::kTruncated);
}

}  // namespace
}  // namespace armored::cbor

namespace armored::cbor {
namespace {

// RFC 8949 Appendix A: 1.1 as binary64 is fb3ff199999999999a.
TEST(CborFloat64, OnlyWhenAllowedAndOnlyFiniteBinary64) {
  Limits on;
  on.allow_float64 = true;
  EXPECT_EQ(err("fb3ff199999999999a"), DecodeError::kUnsupported);  // off by default
  auto r = dec("fb3ff199999999999a", on);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, Type::kFloat64);
  EXPECT_EQ(r->float_value, 1.1);
  EXPECT_EQ(r->encoded.size(), 9u);
  EXPECT_EQ(err("f93e00", on), DecodeError::kUnsupported);              // half precision
  EXPECT_EQ(err("fa47c35000", on), DecodeError::kUnsupported);          // single precision
  EXPECT_EQ(err("fb7ff8000000000000", on), DecodeError::kUnsupported);  // NaN
  EXPECT_EQ(err("fb7ff0000000000000", on), DecodeError::kUnsupported);  // +infinity
  EXPECT_EQ(err("fbfff0000000000000", on), DecodeError::kUnsupported);  // -infinity
  EXPECT_EQ(err("fb3ff19999999999", on), DecodeError::kTruncated);
}

TEST(CborFloat64, WriterAlwaysWritesBinary64) {
  Bytes b;
  Writer w(b);
  w.float64(1.1).float64(0.0).float64(-4.1);
  EXPECT_EQ(to_hex(b), "fb3ff199999999999a" "fb0000000000000000" "fbc010666666666666");
}

// A long array read an element at a time: the head, then each element
// with its size, nothing past it.
TEST(CborDecoder, ReadsALongArrayOneElementAtATime) {
  Bytes b;
  Writer w(b);
  w.array(300);
  for (std::uint64_t i = 0; i < 300; ++i) w.array(2).uint(i).bstr(Bytes(3, static_cast<std::uint8_t>(i)));
  std::size_t used = 0;
  auto n = decode_array_head(b, used);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 300u);
  EXPECT_EQ(used, 3u);  // 0x99 0x01 0x2c
  ByteSpan rest = ByteSpan(b).subspan(used);
  // Each element within a limit the whole array is far over.
  const Limits small{.max_depth = 2, .max_items = 3};
  for (std::uint64_t i = 0; i < 300; ++i) {
    auto item = decode_prefix(rest, used, small);
    ASSERT_TRUE(item) << i;
    EXPECT_EQ(item->children[0].uint_value, i);
    EXPECT_EQ(used, item->encoded.size());
    rest = rest.subspan(used);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(decode(b, small).error(), DecodeError::kTooLarge);
}

TEST(CborDecoder, ArrayHeadAndPrefixRejectWhatDecodeRejects) {
  std::size_t used = 7;
  EXPECT_EQ(decode_array_head(*from_hex("980100"), used).error(), DecodeError::kNonMinimal);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(decode_array_head(*from_hex("9f01ff"), used).error(), DecodeError::kIndefinite);
  EXPECT_EQ(decode_array_head(*from_hex("9a0001"), used).error(), DecodeError::kTruncated);
  EXPECT_EQ(decode_array_head(*from_hex(""), used).error(), DecodeError::kTruncated);
  EXPECT_EQ(decode_array_head(*from_hex("a0"), used).error(), DecodeError::kUnsupported);  // a map
  EXPECT_EQ(decode_array_head(*from_hex("9c"), used).error(), DecodeError::kUnsupported);
  EXPECT_EQ(*decode_array_head(*from_hex("80"), used), 0u);
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(decode_prefix(*from_hex("1817"), used).error(), DecodeError::kNonMinimal);
  EXPECT_EQ(used, 0u);
  EXPECT_EQ(decode_prefix(*from_hex("8301"), used).error(), DecodeError::kTruncated);
  EXPECT_EQ(decode_prefix(*from_hex("61ff"), used).error(), DecodeError::kBadUtf8);
  auto first = decode_prefix(*from_hex("0102"), used);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->uint_value, 1u);
  EXPECT_EQ(used, 1u);
}

}  // namespace
}  // namespace armored::cbor
