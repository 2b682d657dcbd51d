#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace armored::testing {

namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;

PkeyPtr load_key(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "r");
  if (!f) throw std::runtime_error("open " + p.string());
  PkeyPtr k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return k;
}

X509Ptr load_cert(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "r");
  if (!f) throw std::runtime_error("open " + p.string());
  X509Ptr c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return c;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

}  // namespace

CertFiles make_cert(const std::filesystem::path& dir, const std::string& stem, const CertSpec& spec,
                    const CertFiles* issuer) {
  PkeyPtr key(spec.rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_days * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_days * 86400L);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_pubkey(cert.get(), key.get());
  PkeyPtr signing_key;
  X509Ptr issuer_cert;
  if (issuer) {
    signing_key = load_key(issuer->key);
    issuer_cert = load_cert(issuer->cert);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509* iss = issuer ? issuer_cert.get() : cert.get();
  add_ext(cert.get(), iss, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (spec.is_ca) add_ext(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& i : spec.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + i;
  if (!san.empty()) add_ext(cert.get(), iss, NID_subject_alt_name, san);
  if (!X509_sign(cert.get(), issuer ? signing_key.get() : key.get(), EVP_sha256())) {
    throw std::runtime_error("X509_sign");
  }
  CertFiles out{dir / (stem + ".crt"), dir / (stem + ".key")};
  FILE* c = std::fopen(out.cert.c_str(), "w");
  PEM_write_X509(c, cert.get());
  std::fclose(c);
  FILE* k = std::fopen(out.key.c_str(), "w");
  ::chmod(out.key.c_str(), 0600);
  PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  return out;
}

}  // namespace armored::testing
