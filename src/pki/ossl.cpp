#include "pki/ossl.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <limits>

namespace armored::pki::ossl {

namespace {

BioPtr mem_bio() { return BioPtr(BIO_new(BIO_s_mem())); }

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

BioPtr read_bio(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

Expected<std::string> cert_to_pem(X509* cert) {
  auto bio = mem_bio();
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return fail(error_text("cannot encode certificate"));
  return bio_text(bio.get());
}

Expected<std::string> crl_to_pem(X509_CRL* crl) {
  auto bio = mem_bio();
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl) != 1) return fail(error_text("cannot encode CRL"));
  return bio_text(bio.get());
}

namespace {

// PKCS#8 (RFC 5208) PrivateKeyInfo of a P-256 key, as OpenSSL writes it:
//   SEQUENCE(135) { INTEGER 0,
//     SEQUENCE { OID id-ecPublicKey, OID prime256v1 },
//     OCTET STRING(109) { ECPrivateKey (RFC 5915) SEQUENCE(107) { INTEGER 1,
//       OCTET STRING(32) d, [1] { BIT STRING(66) 0x00 || Q (65 bytes) } } } }
// Everything but d and Q is constant. OpenSSL 3 builds a new encoder for
// each PEM_write_bio_PrivateKey call (about 0.1 ms, as much as signing the
// certificate), which a fleet run pays thousands of times.
constexpr unsigned char kP256Pkcs8Head[] = {
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02,
    0x01, 0x01, 0x04, 0x20};
constexpr unsigned char kP256Pkcs8Mid[] = {0xa1, 0x44, 0x03, 0x42, 0x00};
constexpr std::size_t kP256ScalarLen = 32, kP256PointLen = 65;
constexpr std::size_t kP256Pkcs8Len = sizeof kP256Pkcs8Head + kP256ScalarLen + sizeof kP256Pkcs8Mid + kP256PointLen;

bool is_p256(EVP_PKEY* key) {
  char group[32] = {0};
  std::size_t len = 0;
  bool ok = EVP_PKEY_is_a(key, "EC") &&
            EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
            std::string_view(group) == "prime256v1";
  clear_errors();
  return ok;
}

// Fills `der` with the PKCS#8 encoding of a P-256 key; false if the key
// cannot export its parts.
bool p256_pkcs8(EVP_PKEY* key, unsigned char (&der)[kP256Pkcs8Len]) {
  unsigned char* out = der;
  std::memcpy(out, kP256Pkcs8Head, sizeof kP256Pkcs8Head);
  out += sizeof kP256Pkcs8Head;
  BIGNUM* d = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) return false;
  int written = BN_bn2binpad(d, out, kP256ScalarLen);
  BN_clear_free(d);
  if (written != static_cast<int>(kP256ScalarLen)) return false;
  out += kP256ScalarLen;
  std::memcpy(out, kP256Pkcs8Mid, sizeof kP256Pkcs8Mid);
  out += sizeof kP256Pkcs8Mid;
  std::size_t point_len = 0;
  return EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
                                         kP256PointLen, &point_len) == 1 &&
         point_len == kP256PointLen && out[0] == 0x04;
}

}  // namespace

Expected<std::string> key_to_pem(EVP_PKEY* key) {
  if (!is_p256(key)) return key_to_pem_openssl(key);
  unsigned char der[kP256Pkcs8Len];
  if (!p256_pkcs8(key, der)) {
    OPENSSL_cleanse(der, sizeof der);
    return fail(error_text("cannot export P-256 private key"));
  }
  // Base64 in 48-byte chunks gives the 64-character lines of RFC 7468.
  std::string pem = "-----BEGIN PRIVATE KEY-----\n";
  unsigned char line[65];
  for (std::size_t off = 0; off < sizeof der; off += 48) {
    int n = EVP_EncodeBlock(line, der + off, static_cast<int>(std::min<std::size_t>(48, sizeof der - off)));
    pem.append(reinterpret_cast<const char*>(line), static_cast<std::size_t>(n));
    pem += '\n';
  }
  pem += "-----END PRIVATE KEY-----\n";
  OPENSSL_cleanse(der, sizeof der);
  OPENSSL_cleanse(line, sizeof line);
  return pem;
}

Expected<std::string> key_to_pem_openssl(EVP_PKEY* key) {
  // A secure-heap BIO is not available for memory BIOs; the text is wiped by
  // the caller and the BIO's buffer is cleansed here before it is freed.
  auto bio = mem_bio();
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(error_text("cannot encode private key"));
  std::string pem = bio_text(bio.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  if (n > 0) OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return pem;
}

Expected<X509Ptr> cert_from_pem(std::string_view pem, std::string_view what) {
  auto bio = read_bio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return fail(error_text(std::string(what) + " is not a PEM certificate"));
  return cert;
}

Expected<PkeyPtr> key_from_pem(std::string_view pem, std::string_view what) {
  auto bio = read_bio(pem);
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                            [](char*, int, int, void*) { return 0; }, nullptr)
                  : nullptr);
  if (!key) return fail(error_text(std::string(what) + " is not a PEM private key"));
  return key;
}

Expected<CrlPtr> crl_from_pem(std::string_view pem, std::string_view what) {
  auto bio = read_bio(pem);
  CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!crl) return fail(error_text(std::string(what) + " is not a PEM CRL"));
  return crl;
}

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

Expected<AsnTimePtr> to_asn1_time(Clock::TimePoint t) {
  // ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as
  // RFC 5280 section 4.1.2.5 requires.
  AsnTimePtr out(ASN1_TIME_set(nullptr, static_cast<time_t>(unix_seconds(t))));
  if (!out) return fail(error_text("cannot encode time"));
  return out;
}

Expected<Clock::TimePoint> from_asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return fail(error_text("bad time in certificate"));
  time_t secs = timegm(&tm);
  return Clock::TimePoint{std::chrono::seconds{secs}};
}

Expected<AsnIntPtr> serial_from_hex(std::string_view hex) {
  std::string s(hex);
  BIGNUM* raw = nullptr;
  int used = s.empty() ? 0 : BN_hex2bn(&raw, s.c_str());
  BignumPtr bn(raw);
  if (used <= 0 || static_cast<std::size_t>(used) != s.size()) return fail(error_text("bad serial " + s));
  AsnIntPtr out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return fail(error_text("cannot encode serial"));
  return out;
}

}  // namespace armored::pki::ossl
