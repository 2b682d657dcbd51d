// Wycheproof ECDSA P-256 / SHA-256 verification through EcPublicKey, with DER
// signatures and IEEE P1363 r||s signatures.

#include <gtest/gtest.h>

#include "crypto/ec.h"
#include "vectors/json_vectors.h"

namespace armored::crypto {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;

struct Tally {
  int total = 0, valid = 0, invalid = 0;
};

void run(const std::string& file, bool p1363, Tally& t) {
  const auto doc = load_vectors("wycheproof/" + file);
  for (const auto& g : doc["testGroups"]) {
    auto key = EcPublicKey::from_spki_der(unhex(g["publicKeyDer"]));
    EXPECT_TRUE(key) << file;
    if (!key) continue;
    auto from_point = EcPublicKey::from_point(unhex(g["publicKey"]["uncompressed"]));
    ASSERT_TRUE(from_point);
    EXPECT_EQ(from_point->point(), key->point());
    for (const auto& tc : g["tests"]) {
      ++t.total;
      const std::string id = file + " tcId " + std::to_string(tc["tcId"].get<int>());
      const Bytes msg = unhex(tc["msg"]), sig = unhex(tc["sig"]);
      const bool ok = p1363 ? key->verify_p1363(msg, sig) : key->verify_der(msg, sig);
      if (tc["result"] == "valid") {
        ++t.valid;
        EXPECT_TRUE(ok) << id;
      } else {
        ASSERT_EQ(tc["result"], "invalid") << id;
        ++t.invalid;
        EXPECT_FALSE(ok) << id;
      }
    }
  }
  EXPECT_EQ(t.total, doc["numberOfTests"].get<int>()) << file;
}

TEST(WycheproofEcdsa, P256Sha256Der) {
  Tally t;
  run("ecdsa_secp256r1_sha256_test.json", false, t);
  EXPECT_EQ(t.total, 484);
  EXPECT_GT(t.valid, 0);
  EXPECT_GT(t.invalid, 0);
}

TEST(WycheproofEcdsa, P256Sha256P1363) {
  Tally t;
  run("ecdsa_secp256r1_sha256_p1363_test.json", true, t);
  EXPECT_EQ(t.total, 262);
  EXPECT_GT(t.valid, 0);
  EXPECT_GT(t.invalid, 0);
}

}  // namespace
}  // namespace armored::crypto
