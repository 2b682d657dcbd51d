// Receipts (docs/broker.md, "Receipts"): what a gateway accepts as the
// cloud's word that a batch is durable. Everything else confirms nothing.

#include "receipt/receipt.h"

#include <gtest/gtest.h>

#include "cbor/writer.h"

namespace armored::receipt {
namespace {

struct Keys {
  crypto::EcPrivateKey cloud = *crypto::EcPrivateKey::generate();
  crypto::EcPublicKey cloud_pub = *cloud.public_key();
  crypto::EcPrivateKey other = *crypto::EcPrivateKey::generate();
};

Receipt sample(std::size_t n = 3) {
  Receipt r;
  r.gateway = "gw1";
  r.issued_at_ms = 1'796'000'000'000;
  for (std::size_t i = 0; i < n; ++i) r.batches.push_back(batch_id(Bytes(i + 1, static_cast<std::uint8_t>(i))));
  return r;
}

TEST(Receipt, SealedByTheCloudOpensWithItsKey) {
  Keys k;
  auto bytes = seal(sample(), k.cloud);
  ASSERT_TRUE(bytes);
  EXPECT_EQ((*bytes)[0], 0xd2) << "tag 18, COSE_Sign1";
  auto r = open(*bytes, k.cloud_pub, "gw1");
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->gateway, "gw1");
  EXPECT_EQ(r->issued_at_ms, sample().issued_at_ms);
  EXPECT_EQ(r->batches, sample().batches);
}

TEST(Receipt, BatchIdIsTheFirst16BytesOfSha256) {
  // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
  const BatchId want = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                        0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23};
  EXPECT_EQ(batch_id(as_bytes("abc")), want);
}

TEST(Receipt, ForgedBySomeoneElseIsRefused) {
  Keys k;
  auto bytes = seal(sample(), k.other);  // e.g. a broker with a key of its own
  ASSERT_TRUE(bytes);
  auto r = open(*bytes, k.cloud_pub, "gw1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ReceiptError::kBadSignature);
}

TEST(Receipt, EveryAlteredByteIsRefused) {
  Keys k;
  const Bytes good = *seal(sample(2), k.cloud);
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    EXPECT_FALSE(open(bad, k.cloud_pub, "gw1")) << "byte " << i;
  }
}

TEST(Receipt, AnotherGatewaysReceiptIsRefused) {
  Keys k;
  auto bytes = seal(sample(), k.cloud);
  auto r = open(*bytes, k.cloud_pub, "gw2");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ReceiptError::kWrongGateway);
}

TEST(Receipt, TruncatedAtEveryLengthIsRefused) {
  Keys k;
  const Bytes good = *seal(sample(2), k.cloud);
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = open(ByteSpan(good).first(n), k.cloud_pub, "gw1");
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), ReceiptError::kMalformed) << n;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(open(trailing, k.cloud_pub, "gw1").error(), ReceiptError::kMalformed);
}

TEST(Receipt, OversizedIsRefusedBeforeParsing) {
  Keys k;
  Bytes huge(kMaxReceiptBytes + 1, 0);
  EXPECT_EQ(open(huge, k.cloud_pub, "gw1").error(), ReceiptError::kTooLarge);
  EXPECT_EQ(seal(sample(kMaxBatchIds + 1), k.cloud).error(), ReceiptError::kTooLarge);
  EXPECT_TRUE(seal(sample(kMaxBatchIds), k.cloud));
  Receipt r = sample();
  r.gateway = std::string(kMaxGatewayId + 1, 'g');
  EXPECT_EQ(seal(r, k.cloud).error(), ReceiptError::kTooLarge);
  r.batches.clear();
  r.gateway = "gw1";
  EXPECT_EQ(seal(r, k.cloud).error(), ReceiptError::kTooLarge) << "an empty receipt is never sent";
  // The largest receipt fits the verifier's bound.
  auto largest = seal(sample(kMaxBatchIds), k.cloud);
  ASSERT_TRUE(largest);
  EXPECT_LE(largest->size(), kMaxReceiptBytes);
  EXPECT_TRUE(open(*largest, k.cloud_pub, "gw1"));
}

// A well-signed message with another shape: each is refused for what it is.
Bytes sign1(ByteSpan prot, ByteSpan payload, const crypto::EcPrivateKey& key) {
  Bytes tbs;
  cbor::Writer(tbs).array(4).tstr("Signature1").bstr(prot).bstr({}).bstr(payload);
  auto sig = *key.sign_p1363(tbs);
  Bytes out;
  cbor::Writer(out).tag(18).array(4).bstr(prot).map(0).bstr(payload).bstr(sig);
  return out;
}

TEST(Receipt, OtherAlgorithmsVersionsAndShapesAreRefused) {
  Keys k;
  Bytes es256, es384, payload, v2, no_ids, short_id;
  cbor::Writer(es256).map(1).uint(1).integer(-7);
  cbor::Writer(es384).map(1).uint(1).integer(-35);
  const BatchId id{};
  cbor::Writer(payload).array(4).uint(1).tstr("gw1").uint(5).array(1).bstr(id);
  cbor::Writer(v2).array(4).uint(2).tstr("gw1").uint(5).array(1).bstr(id);
  cbor::Writer(no_ids).array(4).uint(1).tstr("gw1").uint(5).array(0);
  cbor::Writer(short_id).array(4).uint(1).tstr("gw1").uint(5).array(1).bstr(ByteSpan(id).first(15));
  EXPECT_TRUE(open(sign1(es256, payload, k.cloud), k.cloud_pub, "gw1"));
  EXPECT_EQ(open(sign1(es384, payload, k.cloud), k.cloud_pub, "gw1").error(), ReceiptError::kBadAlgorithm);
  EXPECT_EQ(open(sign1(es256, v2, k.cloud), k.cloud_pub, "gw1").error(), ReceiptError::kBadVersion);
  EXPECT_EQ(open(sign1(es256, no_ids, k.cloud), k.cloud_pub, "gw1").error(), ReceiptError::kMalformed);
  EXPECT_EQ(open(sign1(es256, short_id, k.cloud), k.cloud_pub, "gw1").error(), ReceiptError::kMalformed);
  // Untagged, or a COSE_Sign (tag 98) instead.
  Bytes good = sign1(es256, payload, k.cloud);
  EXPECT_EQ(open(ByteSpan(good).subspan(1), k.cloud_pub, "gw1").error(), ReceiptError::kMalformed);
  good[0] = 0xd8;
  good.insert(good.begin() + 1, 98);
  EXPECT_EQ(open(good, k.cloud_pub, "gw1").error(), ReceiptError::kMalformed);
}

}  // namespace
}  // namespace armored::receipt
