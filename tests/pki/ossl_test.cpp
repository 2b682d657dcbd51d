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

// One spelling of a serial for pki.json, the TLS peer identity, CRL lookups
// and the audit: whole bytes, as openssl prints it. A serial whose first
// nibble is zero (one certificate in sixteen) is where spellings part.
TEST(PkiOssl, ASerialHasOneSpellingWholeBytesUpperCase) {
  auto spelled = [](const char* hex) {
    auto serial = ossl::serial_from_hex(hex);
    EXPECT_TRUE(serial) << hex;
    return serial ? ossl::serial_hex(serial->get()) : std::string("?");
  };
  EXPECT_EQ(spelled("3EB"), "03EB");
  EXPECT_EQ(spelled("03eb"), "03EB");
  EXPECT_EQ(spelled("0ABC"), "0ABC");
  EXPECT_EQ(spelled("1234ABCD"), "1234ABCD");
  EXPECT_EQ(spelled("0"), "00");
  EXPECT_EQ(spelled("100"), "0100");
  EXPECT_EQ(::armored::ossl::normal_serial("3EB"), "03EB");  // as the TLS layer once spelled it
  EXPECT_EQ(::armored::ossl::normal_serial("0003eb"), "03EB");
  EXPECT_EQ(::armored::ossl::normal_serial("00ab"), "AB");
  EXPECT_EQ(::armored::ossl::normal_serial("000"), "00");
  EXPECT_EQ(::armored::ossl::normal_serial("unknown"), "");
  EXPECT_EQ(::armored::ossl::normal_serial(""), "");
  // A negative serial keeps its sign; an unreadable one matches nothing.
  ossl::AsnIntPtr negative(ASN1_INTEGER_new());
  ASSERT_TRUE(negative);
  ASSERT_EQ(ASN1_INTEGER_set_int64(negative.get(), -0x3EB), 1);
  EXPECT_EQ(ossl::serial_hex(negative.get()), "-03EB");
  // What `openssl x509 -serial` prints for the same certificate.
  auto serial = ossl::serial_from_hex("0F00");
  ASSERT_TRUE(serial);
  ossl::BignumPtr bn(ASN1_INTEGER_to_BN(serial->get(), nullptr));
  char* raw = BN_bn2hex(bn.get());
  EXPECT_STREQ(raw, ossl::serial_hex(serial->get()).c_str());
  OPENSSL_free(raw);
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
