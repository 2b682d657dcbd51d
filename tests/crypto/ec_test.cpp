// P-256 key handling, ECDH agreement and ECDSA signatures in both encodings.

#include <gtest/gtest.h>

#include "common/hex.h"
#include "crypto/ec.h"

namespace armored::crypto {
namespace {

TEST(EcP256, EcdhAgreesBothWays) {
  auto a = EcPrivateKey::generate();
  auto b = EcPrivateKey::generate();
  ASSERT_TRUE(a && b);
  auto ab = a->ecdh(b->public_key().value());
  auto ba = b->ecdh(a->public_key().value());
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(*ab, *ba);
}

TEST(EcP256, SignVerifyDerAndP1363) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k);
  auto pub = k->public_key().value();
  const auto msg = as_bytes("reading");
  auto der = k->sign_der(msg);
  ASSERT_TRUE(der);
  EXPECT_TRUE(pub.verify_der(msg, *der));
  auto rs = k->sign_p1363(msg);
  ASSERT_TRUE(rs);
  EXPECT_TRUE(pub.verify_p1363(msg, *rs));
  EXPECT_FALSE(pub.verify_p1363(as_bytes("readinG"), *rs));
  auto bad = *rs;
  bad[10] ^= 1;
  EXPECT_FALSE(pub.verify_p1363(msg, bad));
  EXPECT_FALSE(pub.verify_p1363(msg, ByteSpan(rs->data(), 63)));
  EXPECT_FALSE(pub.verify_der(msg, {}));
  // The two encodings convert into each other.
  auto back = ecdsa_p1363_to_der(*rs);
  ASSERT_TRUE(back);
  EXPECT_TRUE(pub.verify_der(msg, *back));
  EXPECT_EQ(ecdsa_der_to_p1363(*back).value(), *rs);
}

TEST(EcP256, KeyEncodingsRoundTrip) {
  auto k = EcPrivateKey::generate();
  ASSERT_TRUE(k);
  auto pub = k->public_key().value();
  auto from_spki = EcPublicKey::from_spki_der(pub.spki_der());
  ASSERT_TRUE(from_spki);
  EXPECT_EQ(from_spki->point(), pub.point());
  const std::string pem = k->to_pem();
  EXPECT_NE(pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  auto again = EcPrivateKey::from_pem(pem);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_key().value().point(), pub.point());
  // Compressed form of the same point.
  auto pt = pub.point();
  Bytes compressed(pt.begin(), pt.begin() + 33);
  compressed[0] = static_cast<std::uint8_t>(0x02 | (pt[64] & 1));
  auto c = EcPublicKey::from_point(compressed);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->point(), pt);
}

TEST(EcP256, RefusesBadKeys) {
  EXPECT_FALSE(EcPublicKey::from_point(Bytes{0x00}));
  EXPECT_FALSE(EcPublicKey::from_point(Bytes(65, 0x04)));  // not on the curve
  auto k = EcPrivateKey::generate().value();
  auto pt = k.public_key().value().point();
  pt[64] ^= 1;
  EXPECT_FALSE(EcPublicKey::from_point(pt));
  Bytes spki = k.public_key().value().spki_der();
  spki.push_back(0);
  EXPECT_FALSE(EcPublicKey::from_spki_der(spki));  // trailing byte
  EXPECT_FALSE(EcPrivateKey::from_scalar(Bytes(32, 0)));
  EXPECT_FALSE(EcPrivateKey::from_scalar(Bytes(31, 1)));
  EXPECT_FALSE(EcPrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
}

TEST(EcP256, ScalarKeyHasMatchingPublicKey) {
  // d = 1 gives the generator G.
  Bytes one(32, 0);
  one[31] = 1;
  auto k = EcPrivateKey::from_scalar(one);
  ASSERT_TRUE(k);
  auto pub = k->public_key();
  ASSERT_TRUE(pub);
  EXPECT_EQ(to_hex(pub->point()),
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
}

}  // namespace
}  // namespace armored::crypto
