#include "audit/fleet_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <climits>
#include <ctime>
#include <memory>

#include "ossl/ossl.h"

namespace armored::audit {

namespace {

using ::armored::ossl::BioPtr;
using ::armored::ossl::CrlPtr;
using ::armored::ossl::X509Ptr;

Unexpected<Error> ossl_fail(const std::string& what) {
  unsigned long e = ERR_peek_last_error();
  char buf[256] = {};
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return fail(e != 0 ? what + ": " + buf : what);
}

BioPtr mem_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) return BioPtr(nullptr);
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0xf]);
  }
  return out;
}

std::string name_text(const X509_NAME* n) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::optional<SysSeconds> to_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return SysSeconds(std::chrono::seconds(timegm(&tm)));
}

std::string armored_uri_identity(X509* cert) {
  std::string out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.empty(); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                    static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
    for (std::string_view prefix : {"urn:armored:gateway:", "urn:armored:device:"}) {
      if (uri.size() > prefix.size() && uri.compare(0, prefix.size(), prefix) == 0) out = uri.substr(prefix.size());
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

void key_facts(X509* cert, CertFacts& f) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    f.key_type = "unreadable";
    return;
  }
  int id = EVP_PKEY_get_base_id(key);
  const char* type = EVP_PKEY_get0_type_name(key);  // "EC", "RSA", "ED25519", ...
  f.key_type = type ? type : "unknown";
  f.key_bits = EVP_PKEY_get_bits(key);
  char group[64] = {};
  size_t glen = 0;
  if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1) f.curve = group;
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len > 0) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(der, static_cast<std::size_t>(len), md, &n, EVP_sha256(), nullptr) == 1) f.spki_sha256 = hex(md, n);
    OPENSSL_free(der);
  }
}

}  // namespace

Expected<CertFacts> read_certificate(std::string_view pem) {
  BioPtr bio = mem_bio(pem);
  if (!bio) return fail("certificate too large");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return ossl_fail("not a PEM certificate");
  CertFacts f;
  f.subject = name_text(X509_get_subject_name(cert.get()));
  f.serial = ossl::serial_hex(X509_get0_serialNumber(cert.get()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &n) != 1) return ossl_fail("cannot hash the certificate");
  f.fingerprint = hex(md, n);
  auto nb = to_time(X509_get0_notBefore(cert.get()));
  auto na = to_time(X509_get0_notAfter(cert.get()));
  if (!nb || !na) return ossl_fail("certificate has unreadable validity dates");
  f.not_before = *nb;
  f.not_after = *na;
  f.uri_identity = armored_uri_identity(cert.get());
  key_facts(cert.get(), f);
  int sig_nid = X509_get_signature_nid(cert.get());
  const char* ln = OBJ_nid2ln(sig_nid);
  f.signature = ln ? ln : "unknown";
  int md_nid = 0, pk_nid = 0;
  if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1) {
    f.weak_signature = md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_md4 || md_nid == NID_md2;
  }
  f.is_ca = X509_check_ca(cert.get()) != 0;
  ERR_clear_error();
  return f;
}

Expected<CrlFacts> read_crl(std::string_view pem, std::string_view issuer_pem) {
  BioPtr bio = mem_bio(pem);
  if (!bio) return fail("CRL too large");
  CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) return ossl_fail("not a PEM CRL");
  if (!issuer_pem.empty()) {
    BioPtr ib = mem_bio(issuer_pem);
    X509Ptr issuer(ib ? PEM_read_bio_X509(ib.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!issuer) return ossl_fail("the CRL issuer certificate is unreadable");
    EVP_PKEY* key = X509_get0_pubkey(issuer.get());
    if (key == nullptr || X509_CRL_verify(crl.get(), key) != 1) {
      return ossl_fail("the CRL signature does not verify with the issuing CA key");
    }
  }
  CrlFacts f;
  f.issuer = name_text(X509_CRL_get_issuer(crl.get()));
  auto last = to_time(X509_CRL_get0_lastUpdate(crl.get()));
  if (!last) return ossl_fail("CRL has an unreadable lastUpdate");
  f.last_update = *last;
  if (const ASN1_TIME* nu = X509_CRL_get0_nextUpdate(crl.get())) {
    auto next = to_time(nu);
    if (!next) return ossl_fail("CRL has an unreadable nextUpdate");
    f.next_update = *next;
  }
  if (auto* num = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr))) {
    std::uint64_t v = 0;
    if (ASN1_INTEGER_get_uint64(&v, num) == 1) f.number = v;
    ASN1_INTEGER_free(num);
  }
  STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(list); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(list, i);
    auto when = to_time(X509_REVOKED_get0_revocationDate(r));
    if (!when) return ossl_fail("CRL entry " + std::to_string(i) + " has an unreadable revocation date");
    f.revoked.emplace(ossl::serial_hex(X509_REVOKED_get0_serialNumber(r)), *when);
  }
  ERR_clear_error();
  return f;
}

}  // namespace armored::audit
