#include "pki/ossl.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <limits>

namespace armored::pki::ossl {

std::string error_text(std::string_view what) {
  std::string out(what);
  unsigned long first = ERR_get_error();
  if (first != 0) {
    char buf[256];
    ERR_error_string_n(first, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

void clear_errors() { ERR_clear_error(); }

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

Expected<std::string> key_to_pem(EVP_PKEY* key) {
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

std::string serial_hex(const ASN1_INTEGER* serial) {
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) {
    clear_errors();
    return "?";
  }
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex ? hex : "?";
  OPENSSL_free(hex);
  return out;
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
