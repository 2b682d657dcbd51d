// Round trips and tamper checks for the four E3 AEADs through AeadContext.

#include <gtest/gtest.h>

#include "common/rng.h"
#include "crypto/aead.h"

namespace armored::crypto {
namespace {

class AeadRoundTrip : public ::testing::TestWithParam<AeadAlg> {};

TEST_P(AeadRoundTrip, SealOpenTamper) {
  const AeadSpec spec = spec_of(GetParam());
  SeededRng rng(7);
  Bytes key(spec.key_len), nonce(spec.nonce_len), aad(20);
  rng.fill(key);
  rng.fill(nonce);
  rng.fill(aad);
  auto ctx = AeadContext::create(GetParam(), key);
  ASSERT_TRUE(ctx);
  for (std::size_t len : {0u, 1u, 15u, 16u, 52u, 1000u}) {
    Bytes pt(len);
    rng.fill(pt);
    Bytes sealed(len + spec.tag_len);
    ASSERT_EQ(ctx->seal(nonce, aad, pt, sealed).value(), len + spec.tag_len);
    Bytes back(len);
    ASSERT_EQ(ctx->open(nonce, aad, sealed, back).value(), len);
    EXPECT_EQ(back, pt);
    // Any flipped bit in ciphertext or tag, AAD or nonce is refused.
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      Bytes bad = sealed;
      bad[i] ^= 0x01;
      auto r = ctx->open(nonce, aad, bad, back);
      ASSERT_FALSE(r) << "byte " << i;
      EXPECT_EQ(r.error(), CryptoError::kAuthFailed);
    }
    Bytes bad_aad = aad;
    bad_aad[0] ^= 0x80;
    EXPECT_FALSE(ctx->open(nonce, bad_aad, sealed, back));
    Bytes bad_nonce = nonce;
    bad_nonce.back() ^= 1;
    EXPECT_FALSE(ctx->open(bad_nonce, aad, sealed, back));
  }
}

TEST_P(AeadRoundTrip, RefusesWrongSizes) {
  const AeadSpec spec = spec_of(GetParam());
  Bytes key(spec.key_len, 1);
  EXPECT_FALSE(AeadContext::create(GetParam(), Bytes(spec.key_len + 1)));
  auto ctx = AeadContext::create(GetParam(), key);
  ASSERT_TRUE(ctx);
  Bytes pt(10), out(10 + spec.tag_len), nonce(spec.nonce_len + 1);
  EXPECT_EQ(ctx->seal(nonce, {}, pt, out).error(), CryptoError::kBadNonce);
  Bytes good_nonce(spec.nonce_len);
  Bytes small(5);
  EXPECT_EQ(ctx->seal(good_nonce, {}, pt, small).error(), CryptoError::kBufferTooSmall);
  Bytes short_sealed(spec.tag_len - 1);
  EXPECT_EQ(ctx->open(good_nonce, {}, short_sealed, out).error(), CryptoError::kAuthFailed);
}

TEST_P(AeadRoundTrip, FailedOpenWipesOutput) {
  const AeadSpec spec = spec_of(GetParam());
  auto ctx = AeadContext::create(GetParam(), Bytes(spec.key_len, 3));
  ASSERT_TRUE(ctx);
  Bytes nonce(spec.nonce_len, 9), pt(32, 0x5a), sealed(32 + spec.tag_len);
  ASSERT_TRUE(ctx->seal(nonce, {}, pt, sealed));
  sealed.back() ^= 1;
  Bytes out(32, 0xee);
  ASSERT_FALSE(ctx->open(nonce, {}, sealed, out));
  EXPECT_EQ(out, Bytes(32, 0));
}

// A re-keyed context seals exactly as a fresh one with that key, opens
// what the fresh one sealed, and no longer opens under the old key.
TEST_P(AeadRoundTrip, RekeyedContextMatchesFreshOne) {
  const AeadSpec spec = spec_of(GetParam());
  SeededRng rng(11);
  Bytes key1(spec.key_len), key2(spec.key_len), nonce(spec.nonce_len), aad(13), pt(52);
  rng.fill(key1);
  rng.fill(key2);
  rng.fill(nonce);
  rng.fill(aad);
  rng.fill(pt);
  for (AeadUse use : {AeadUse::kSealAndOpen, AeadUse::kSealOnly, AeadUse::kOpenOnly}) {
    auto reused = AeadContext::create(GetParam(), key1, use);
    auto fresh = AeadContext::create(GetParam(), key2);
    ASSERT_TRUE(reused && fresh);
    Bytes sealed_old(pt.size() + spec.tag_len), sealed_new(pt.size() + spec.tag_len), back(pt.size());
    ASSERT_TRUE(AeadContext::create(GetParam(), key1).value().seal(nonce, aad, pt, sealed_old));
    ASSERT_TRUE(reused->rekey(key2));
    ASSERT_TRUE(fresh->seal(nonce, aad, pt, sealed_new));
    if (use != AeadUse::kOpenOnly) {
      Bytes sealed(pt.size() + spec.tag_len);
      ASSERT_TRUE(reused->seal(nonce, aad, pt, sealed));
      EXPECT_EQ(sealed, sealed_new);
    }
    if (use != AeadUse::kSealOnly) {
      ASSERT_EQ(reused->open(nonce, aad, sealed_new, back).value(), pt.size());
      EXPECT_EQ(back, pt);
      EXPECT_EQ(reused->open(nonce, aad, sealed_old, back).error(), CryptoError::kAuthFailed);
    }
  }
}

TEST_P(AeadRoundTrip, OneUseContextRefusesTheOther) {
  const AeadSpec spec = spec_of(GetParam());
  Bytes key(spec.key_len, 0x11), nonce(spec.nonce_len, 0x22), pt(16, 0x33), out(16 + spec.tag_len);
  auto open_only = AeadContext::create(GetParam(), key, AeadUse::kOpenOnly);
  auto seal_only = AeadContext::create(GetParam(), key, AeadUse::kSealOnly);
  ASSERT_TRUE(open_only && seal_only);
  EXPECT_EQ(open_only->use(), AeadUse::kOpenOnly);
  EXPECT_EQ(open_only->seal(nonce, {}, pt, out).error(), CryptoError::kBadParameters);
  ASSERT_TRUE(seal_only->seal(nonce, {}, pt, out));
  EXPECT_EQ(seal_only->open(nonce, {}, out, pt).error(), CryptoError::kBadParameters);
  EXPECT_EQ(open_only->open(nonce, {}, out, pt).value(), pt.size());
  // A key of the wrong length is refused and leaves the context keyed as it was.
  EXPECT_EQ(open_only->rekey(Bytes(spec.key_len + 1)).error(), CryptoError::kBadParameters);
  EXPECT_EQ(open_only->open(nonce, {}, out, pt).value(), pt.size());
}

INSTANTIATE_TEST_SUITE_P(AllE3Aeads, AeadRoundTrip, ::testing::ValuesIn(kAllAeads),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case AeadAlg::kAes128Gcm: return std::string("A128GCM");
                             case AeadAlg::kAes256Gcm: return std::string("A256GCM");
                             case AeadAlg::kAesCcm16_64_128: return std::string("AesCcm16_64_128");
                             case AeadAlg::kChaCha20Poly1305: return std::string("ChaCha20Poly1305");
                           }
                           return std::string("unknown");
                         });

TEST(AeadAlg, CoseIdentifiers) {
  EXPECT_EQ(aead_from_cose(1), AeadAlg::kAes128Gcm);
  EXPECT_EQ(aead_from_cose(3), AeadAlg::kAes256Gcm);
  EXPECT_EQ(aead_from_cose(10), AeadAlg::kAesCcm16_64_128);
  EXPECT_EQ(aead_from_cose(24), AeadAlg::kChaCha20Poly1305);
  EXPECT_FALSE(aead_from_cose(2));
  EXPECT_FALSE(aead_from_cose(-7));
  EXPECT_EQ(spec_of(AeadAlg::kAesCcm16_64_128).nonce_len, 13u);
  EXPECT_EQ(spec_of(AeadAlg::kAesCcm16_64_128).tag_len, 8u);
}

}  // namespace
}  // namespace armored::crypto
