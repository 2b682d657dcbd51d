// The OpenSSL adapter: the fast P-256 PKCS#8 writer must produce exactly the
// bytes of OpenSSL's own encoder, and other keys must still be encoded.

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "pki/certs.h"
#include "pki/ossl.h"

namespace armored::pki {
namespace {

TEST(PkiOssl, P256KeyPemIsByteIdenticalToOpenssl) {
  KeyGenerator keys;
  for (int i = 0; i < 64; ++i) {  // 64 keys: some scalars have leading zero bytes
    auto key = keys.generate();
    ASSERT_TRUE(key);
    auto ours = ossl::key_to_pem(key->get());
    auto reference = ossl::key_to_pem_openssl(key->get());
    ASSERT_TRUE(ours && reference);
    EXPECT_EQ(*ours, *reference);
    auto back = ossl::key_from_pem(*ours, "ours");
    ASSERT_TRUE(back);
    EXPECT_EQ(EVP_PKEY_eq(back->get(), key->get()), 1);
    BIGNUM *a = nullptr, *b = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key->get(), OSSL_PKEY_PARAM_PRIV_KEY, &a), 1);
    ASSERT_EQ(EVP_PKEY_get_bn_param(back->get(), OSSL_PKEY_PARAM_PRIV_KEY, &b), 1);
    EXPECT_EQ(BN_cmp(a, b), 0);
    BN_clear_free(a);
    BN_clear_free(b);
  }
}

TEST(PkiOssl, OtherKeysUseOpensslsEncoder) {
  for (const char* curve : {"P-384", "P-521"}) {
    ossl::PkeyPtr key(EVP_EC_gen(curve));
    ASSERT_TRUE(key) << curve;
    auto pem = ossl::key_to_pem(key.get());
    ASSERT_TRUE(pem);
    EXPECT_EQ(*pem, *ossl::key_to_pem_openssl(key.get()));
    EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  }
}

TEST(PkiOssl, SerialsAreRandomPositiveAndAtMost16Bytes) {
  for (int i = 0; i < 200; ++i) {
    auto serial = random_serial();
    ASSERT_TRUE(serial);
    ossl::BignumPtr bn(ASN1_INTEGER_to_BN(serial->get(), nullptr));
    EXPECT_FALSE(BN_is_negative(bn.get()));
    EXPECT_FALSE(BN_is_zero(bn.get()));
    EXPECT_LE(BN_num_bytes(bn.get()), 16);
    auto hex = ossl::serial_hex(serial->get());
    auto back = ossl::serial_from_hex(hex);
    ASSERT_TRUE(back);
    EXPECT_EQ(ASN1_INTEGER_cmp(back->get(), serial->get()), 0);
  }
  EXPECT_FALSE(ossl::serial_from_hex("12XY"));
  EXPECT_FALSE(ossl::serial_from_hex(""));
}

TEST(PkiOssl, ErrorTextDrainsTheQueue) {
  EXPECT_FALSE(ossl::cert_from_pem("not pem", "input"));
  EXPECT_EQ(ERR_peek_error(), 0u);
  auto e = ossl::key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "k");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("k is not a PEM private key"), std::string::npos);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace armored::pki
