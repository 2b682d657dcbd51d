// Wycheproof AES-GCM, ChaCha20-Poly1305 and AES-CCM through AeadContext:
// every valid case seals to the expected bytes and opens back, every invalid
// case is refused (at keying for bad sizes, at open for bad tags).

#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "vectors/json_vectors.h"

namespace armored::crypto {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;

struct Tally {
  int total = 0, valid = 0, invalid = 0, refused_at_keying = 0, refused_long_iv = 0;
};

void run_file(const std::string& file, AeadCipher cipher, Tally& t) {
  const auto doc = load_vectors("wycheproof/" + file);
  for (const auto& g : doc["testGroups"]) {
    for (const auto& tc : g["tests"]) {
      ++t.total;
      const std::string id = file + " tcId " + std::to_string(tc["tcId"].get<int>());
      const bool valid = tc["result"] == "valid";
      ASSERT_TRUE(valid || tc["result"] == "invalid") << id;  // AEAD files have no acceptable cases
      valid ? ++t.valid : ++t.invalid;
      const Bytes key = unhex(tc["key"]), iv = unhex(tc["iv"]), aad = unhex(tc["aad"]), msg = unhex(tc["msg"]);
      Bytes sealed = unhex(tc["ct"]);
      const Bytes tag = unhex(tc["tag"]);
      sealed.insert(sealed.end(), tag.begin(), tag.end());
      const AeadSpec spec{cipher, key.size(), iv.size(), g["tagSize"].get<std::size_t>() / 8};
      auto ctx = AeadContext::create(spec, key);
      if (!ctx) {
        // OpenSSL's GCM accepts IVs of at most 128 bytes; the three 2056-bit
        // "LongIv" cases are refused by design (E3 uses 96-bit nonces).
        const bool beyond_openssl_limit = cipher == AeadCipher::kAesGcm && iv.size() > 128;
        if (beyond_openssl_limit) {
          EXPECT_TRUE(valid) << id;
          ++t.refused_long_iv;
          continue;
        }
        EXPECT_FALSE(valid) << id << " valid parameters refused";
        EXPECT_EQ(ctx.error(), CryptoError::kBadParameters) << id;
        ++t.refused_at_keying;
        continue;
      }
      Bytes out(msg.size() + spec.tag_len);
      auto s = ctx->seal(iv, aad, msg, out);
      ASSERT_TRUE(s) << id;
      Bytes pt(sealed.size());
      auto o = ctx->open(iv, aad, sealed, pt);
      if (valid) {
        EXPECT_EQ(out, sealed) << id;
        ASSERT_TRUE(o) << id;
        pt.resize(*o);
        EXPECT_EQ(pt, msg) << id;
      } else {
        EXPECT_FALSE(o) << id << " invalid case opened";
        if (!o) {
          EXPECT_EQ(o.error(), CryptoError::kAuthFailed) << id;
        }
      }
    }
  }
  EXPECT_EQ(t.total, doc["numberOfTests"].get<int>()) << file;
}

TEST(WycheproofAead, AesGcm) {
  Tally t;
  run_file("aes_gcm_test.json", AeadCipher::kAesGcm, t);
  EXPECT_EQ(t.total, 316);
  EXPECT_EQ(t.valid, 229);
  EXPECT_EQ(t.invalid, 87);
  EXPECT_EQ(t.refused_at_keying, 6);  // zero-length IVs
  EXPECT_EQ(t.refused_long_iv, 3);    // 257-byte IVs, over OpenSSL's GCM limit
}

TEST(WycheproofAead, ChaCha20Poly1305) {
  Tally t;
  run_file("chacha20_poly1305_test.json", AeadCipher::kChaCha20Poly1305, t);
  EXPECT_EQ(t.total, 325);
  EXPECT_EQ(t.valid, 256);
  EXPECT_EQ(t.invalid, 69);
  EXPECT_EQ(t.refused_at_keying, 9);  // nonces other than 96 bits
}

TEST(WycheproofAead, AesCcm) {
  Tally t;
  run_file("aes_ccm_test.json", AeadCipher::kAesCcm, t);
  EXPECT_EQ(t.total, 552);
  EXPECT_GT(t.valid, 400);
  EXPECT_GT(t.invalid, 100);
  EXPECT_GT(t.refused_at_keying, 50);  // bad nonce and tag sizes
}

}  // namespace
}  // namespace armored::crypto
