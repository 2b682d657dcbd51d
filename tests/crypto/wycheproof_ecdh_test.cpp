// Wycheproof ECDH P-256 through EcPrivateKey::ecdh, with the peer key as
// SubjectPublicKeyInfo DER (ecdh_secp256r1_test) and as a raw SEC1 point
// (ecdh_secp256r1_ecpoint_test). Acceptable cases may go either way but a
// success must give the expected secret.

#include <gtest/gtest.h>

#include "crypto/ec.h"
#include "vectors/json_vectors.h"

namespace armored::crypto {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;

// Wycheproof private keys are big-endian integers of any length.
Bytes scalar32(const std::string& hex) {
  Bytes d = unhex(hex);
  while (d.size() > 32 && d.front() == 0) d.erase(d.begin());
  Bytes out(32 - std::min<std::size_t>(32, d.size()), 0);
  out.insert(out.end(), d.begin(), d.end());
  return out;
}

struct Tally {
  int total = 0, valid = 0, invalid = 0, acceptable_ok = 0, acceptable_refused = 0;
};

void run(const std::string& file, bool spki, Tally& t) {
  const auto doc = load_vectors("wycheproof/" + file);
  for (const auto& g : doc["testGroups"]) {
    for (const auto& tc : g["tests"]) {
      ++t.total;
      const std::string id = file + " tcId " + std::to_string(tc["tcId"].get<int>());
      const std::string result = tc["result"];
      auto priv = EcPrivateKey::from_scalar(scalar32(tc["private"]));
      ASSERT_TRUE(priv) << id;
      const Bytes pub_bytes = unhex(tc["public"]);
      auto pub = spki ? EcPublicKey::from_spki_der(pub_bytes) : EcPublicKey::from_point(pub_bytes);
      CryptoResult<std::array<std::uint8_t, kP256SharedSize>> shared = unexpected(CryptoError::kBadKey);
      if (pub) shared = priv->ecdh(*pub);
      const Bytes expected = unhex(tc["shared"]);
      if (result == "valid") {
        ++t.valid;
        ASSERT_TRUE(shared) << id;
        EXPECT_EQ(Bytes(shared->begin(), shared->end()), expected) << id;
      } else if (result == "invalid") {
        ++t.invalid;
        EXPECT_FALSE(shared) << id << " invalid case accepted";
      } else {
        if (shared) {
          ++t.acceptable_ok;
          EXPECT_EQ(Bytes(shared->begin(), shared->end()), expected) << id;
        } else {
          ++t.acceptable_refused;
        }
      }
    }
  }
  EXPECT_EQ(t.total, doc["numberOfTests"].get<int>()) << file;
}

TEST(WycheproofEcdh, P256SubjectPublicKeyInfo) {
  Tally t;
  run("ecdh_secp256r1_test.json", true, t);
  EXPECT_EQ(t.total, 612);
  EXPECT_GT(t.valid, 0);
  EXPECT_GT(t.invalid, 0);
  std::printf("spki: valid %d invalid %d acceptable accepted %d refused %d\n", t.valid, t.invalid, t.acceptable_ok,
              t.acceptable_refused);
}

TEST(WycheproofEcdh, P256RawPoint) {
  Tally t;
  run("ecdh_secp256r1_ecpoint_test.json", false, t);
  EXPECT_EQ(t.total, 355);
  EXPECT_GT(t.valid, 0);
  EXPECT_GT(t.invalid, 0);
  std::printf("ecpoint: valid %d invalid %d acceptable accepted %d refused %d\n", t.valid, t.invalid,
              t.acceptable_ok, t.acceptable_refused);
}

}  // namespace
}  // namespace armored::crypto
