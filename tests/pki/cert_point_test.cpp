// certificate_p256_point: the key's point straight from the certificate's
// DER, the same bytes OpenSSL's full parse gives, and a refusal for every
// other key or a damaged certificate.

#include <gtest/gtest.h>
#include <algorithm>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "pki/certs.h"
#include "pki/ossl.h"
#include "pki/pki.h"

namespace armored::pki {
namespace {

Validity a_year() {
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(SystemClock().now());
  return {now, now + std::chrono::hours(24 * 365)};
}

std::string root_pem(EVP_PKEY* key) {
  auto cert = make_root(key, "Point Test CA", a_year());
  EXPECT_TRUE(cert);
  return cert ? ossl::cert_to_pem(cert->get()).value() : std::string();
}

// A bare self-signed certificate for any key (make_root takes P-256 only).
std::string plain_cert_pem(EVP_PKEY* key) {
  ossl::X509Ptr x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("other"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key);
  EXPECT_GT(X509_sign(x.get(), key, EVP_sha256()), 0);
  return ossl::cert_to_pem(x.get()).value();
}

// Arbitrary bytes armoured as a CERTIFICATE.
std::string as_pem(const std::vector<std::uint8_t>& der) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE", "", der.data(), static_cast<long>(der.size()));
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::vector<std::uint8_t> der_of(const std::string& pem) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  unsigned char* der = nullptr;
  long len = 0;
  EXPECT_EQ(PEM_bytes_read_bio(&der, &len, nullptr, PEM_STRING_X509, bio.get(), nullptr, nullptr), 1);
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

TEST(CertificatePoint, SameBytesAsOpensslsParse) {
  KeyGenerator keys;
  for (int i = 0; i < 8; ++i) {
    auto key = keys.generate();
    ASSERT_TRUE(key);
    auto point = certificate_p256_point(root_pem(key->get()));
    ASSERT_TRUE(point) << point.error().message;
    std::array<std::uint8_t, 65> expected{};
    std::size_t len = 0;
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(key->get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, expected.data(),
                                              expected.size(), &len),
              1);
    EXPECT_EQ(len, 65u);
    EXPECT_EQ(*point, expected);
  }
}

TEST(CertificatePoint, RefusesOtherCurvesAndDamagedCertificates) {
  ossl::PkeyPtr p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  auto other = certificate_p256_point(plain_cert_pem(p384.get()));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::bad_input);
  EXPECT_NE(other.error().message.find("P-256"), std::string::npos) << other.error().message;

  KeyGenerator keys;
  const std::string good = root_pem(keys.generate().value().get());
  EXPECT_TRUE(certificate_p256_point(plain_cert_pem(keys.generate().value().get())));
  const auto der = der_of(good);
  EXPECT_FALSE(certificate_p256_point(""));
  EXPECT_FALSE(certificate_p256_point("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
  // Cut anywhere: refused, never read past the end.
  for (std::size_t cut = 0; cut < der.size(); cut += 7) {
    EXPECT_FALSE(certificate_p256_point(as_pem({der.begin(), der.begin() + static_cast<std::ptrdiff_t>(cut)})))
        << cut;
  }
  // Trailing bytes after the certificate.
  auto longer = der;
  longer.push_back(0);
  EXPECT_FALSE(certificate_p256_point(as_pem(longer)));
  // The point's 04 prefix changed to a compressed form's 02.
  auto compressed = der;
  const std::array<std::uint8_t, 3> bitstring_head = {0x03, 0x42, 0x00};
  auto at = std::search(compressed.begin(), compressed.end(), bitstring_head.begin(), bitstring_head.end());
  ASSERT_NE(at, compressed.end());
  at[3] = 0x02;
  EXPECT_FALSE(certificate_p256_point(as_pem(compressed)));
  EXPECT_TRUE(certificate_p256_point(as_pem(der)));
}

}  // namespace
}  // namespace armored::pki
