// Wycheproof HKDF-SHA-256 through hkdf_sha256().

#include <gtest/gtest.h>

#include "crypto/hkdf.h"
#include "vectors/json_vectors.h"

namespace armored::crypto {
namespace {

using armored::testing::load_vectors;
using armored::testing::unhex;

TEST(WycheproofHkdf, Sha256) {
  const auto doc = load_vectors("wycheproof/hkdf_sha256_test.json");
  int total = 0, valid = 0, invalid = 0;
  for (const auto& g : doc["testGroups"]) {
    for (const auto& tc : g["tests"]) {
      ++total;
      const std::string id = "tcId " + std::to_string(tc["tcId"].get<int>());
      Bytes out(tc["size"].get<std::size_t>());
      auto r = hkdf_sha256(unhex(tc["ikm"]), unhex(tc["salt"]), unhex(tc["info"]), out);
      if (tc["result"] == "valid") {
        ++valid;
        ASSERT_TRUE(r) << id;
        EXPECT_EQ(out, unhex(tc["okm"])) << id;
      } else {
        ++invalid;
        EXPECT_FALSE(r) << id;
      }
    }
  }
  EXPECT_EQ(total, doc["numberOfTests"].get<int>());
  EXPECT_EQ(valid, 83);
  EXPECT_EQ(invalid, 3);
}

TEST(Hkdf, RefusesEmptyOutput) {
  Bytes none;
  EXPECT_FALSE(hkdf_sha256(as_bytes("k"), {}, {}, none));
}

}  // namespace
}  // namespace armored::crypto
