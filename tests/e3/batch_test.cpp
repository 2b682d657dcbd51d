// Batch framing (docs/e3-protocol.md section 7).

#include <gtest/gtest.h>

#include "common/hex.h"
#include "e3/batch.h"

namespace armored::e3 {
namespace {

TEST(E3Batch, RoundTrip) {
  const Bytes a = {1, 2, 3}, b(300, 7);
  const ByteSpan msgs[] = {a, b};
  auto enc = encode_batch(msgs);
  ASSERT_TRUE(enc);
  const std::size_t sizes[] = {3, 300};
  EXPECT_EQ(enc->size(), batch_size(sizes));
  EXPECT_EQ(to_hex(ByteSpan(*enc).first(7)), "c0020003010203");
  EXPECT_TRUE(is_batch(*enc));
  auto dec = decode_batch(*enc);
  ASSERT_TRUE(dec);
  ASSERT_EQ(dec->size(), 2u);
  EXPECT_EQ(Bytes((*dec)[0].begin(), (*dec)[0].end()), a);
  EXPECT_EQ(Bytes((*dec)[1].begin(), (*dec)[1].end()), b);
}

TEST(E3Batch, RejectsMalformedAndOversized) {
  auto err = [](const std::string& hex, const BatchLimits& l = {}) {
    auto r = decode_batch(*from_hex(hex), l);
    EXPECT_FALSE(r) << hex;
    return r ? E3Errc::kInternal : r.error().code;
  };
  EXPECT_EQ(err(""), E3Errc::kMalformed);
  EXPECT_EQ(err("1a"), E3Errc::kMalformed);          // a single envelope, not a batch
  EXPECT_EQ(err("c0"), E3Errc::kMalformed);
  EXPECT_EQ(err("c000"), E3Errc::kMalformed);        // zero messages
  EXPECT_EQ(err("c0010000"), E3Errc::kMalformed);    // zero length
  EXPECT_EQ(err("c00100"), E3Errc::kMalformed);      // truncated length
  EXPECT_EQ(err("c001000201"), E3Errc::kMalformed);  // truncated message
  EXPECT_EQ(err("c00100010102"), E3Errc::kMalformed);  // trailing byte
  EXPECT_EQ(err("c00200010100"), E3Errc::kMalformed);  // second entry truncated
  EXPECT_EQ(err("c003000101000101000101", {.max_messages = 2}), E3Errc::kOversized);
  EXPECT_EQ(err("c001000301020304", {.max_message_size = 2}), E3Errc::kOversized);
  EXPECT_FALSE(encode_batch({}));
  const Bytes empty;
  const ByteSpan one_empty[] = {empty};
  EXPECT_EQ(encode_batch(one_empty).error().code, E3Errc::kMalformed);
  const Bytes big(5000, 1);
  const ByteSpan one_big[] = {big};
  EXPECT_EQ(encode_batch(one_big).error().code, E3Errc::kOversized);
}

}  // namespace
}  // namespace armored::e3
