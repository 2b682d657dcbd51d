#include "tls/test_pki.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <fstream>
#include <stdexcept>

namespace armored::testing {

namespace {

template <auto Fn>
struct Del {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Del<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Del<X509_free>>;

std::atomic<long> g_serial{1000};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

KeyPtr new_key() {
  KeyPtr k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EVP_EC_gen");
  return k;
}

std::string key_pem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  check(PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

std::string cert_to_pem(X509* c) {
  BIO* b = BIO_new(BIO_s_mem());
  check(PEM_write_bio_X509(b, c) == 1, "write cert");
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct Name {
  std::string cn;
};

CertPtr make_cert(const std::string& cn, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
                  long serial, std::chrono::seconds nb, std::chrono::seconds na) {
  CertPtr c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), static_cast<long>(nb.count()));
  X509_gmtime_adj(X509_getm_notAfter(c.get()), static_cast<long>(na.count()));
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Armored Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(c.get(), subject_key);
  (void)issuer_key;
  return c;
}

void sign(X509* c, EVP_PKEY* key) { check(X509_sign(c, key, EVP_sha256()) > 0, "sign"); }

std::string join_san(const LeafSpec& s) {
  std::string out;
  auto add = [&](const std::string& kind, const std::string& v) {
    if (!out.empty()) out += ",";
    out += kind + ":" + v;
  };
  for (auto& d : s.dns) add("DNS", d);
  for (auto& i : s.ips) add("IP", i);
  for (auto& u : s.uris) add("URI", u);
  return out;
}

void add_leaf_exts(X509* c, X509* issuer, const LeafSpec& s) {
  add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_ext(c, issuer, NID_key_usage, "critical,digitalSignature");
  add_ext(c, issuer, NID_subject_key_identifier, "hash");
  if (issuer != c) add_ext(c, issuer, NID_authority_key_identifier, "keyid:always");
  switch (s.eku) {
    case Eku::kServer: add_ext(c, issuer, NID_ext_key_usage, "serverAuth"); break;
    case Eku::kClient: add_ext(c, issuer, NID_ext_key_usage, "clientAuth"); break;
    case Eku::kBoth: add_ext(c, issuer, NID_ext_key_usage, "serverAuth,clientAuth"); break;
    case Eku::kNone: break;
  }
  std::string san = join_san(s);
  if (!san.empty()) add_ext(c, issuer, NID_subject_alt_name, san);
}

}  // namespace

struct TestAuthority::Impl {
  KeyPtr key;
  CertPtr cert;
  std::string parent_chain;  // issuers' PEMs (empty for a root)
  std::vector<long> revoked;
};

TestAuthority::TestAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestAuthority::~TestAuthority() = default;

std::unique_ptr<TestAuthority> TestAuthority::root(const std::string& cn) {
  auto impl = std::make_unique<Impl>();
  impl->key = new_key();
  impl->cert = make_cert(cn, impl->key.get(), nullptr, impl->key.get(), g_serial++,
                         std::chrono::hours(-24), std::chrono::hours(24 * 3650));
  X509* c = impl->cert.get();
  add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(c, c, NID_subject_key_identifier, "hash");
  sign(c, impl->key.get());
  return std::unique_ptr<TestAuthority>(new TestAuthority(std::move(impl)));
}

std::unique_ptr<TestAuthority> TestAuthority::intermediate(const std::string& cn) {
  auto impl = std::make_unique<Impl>();
  impl->key = new_key();
  impl->cert = make_cert(cn, impl->key.get(), impl_->cert.get(), impl_->key.get(), g_serial++,
                         std::chrono::hours(-24), std::chrono::hours(24 * 3650));
  X509* c = impl->cert.get();
  add_ext(c, impl_->cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(c, impl_->cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(c, impl_->cert.get(), NID_subject_key_identifier, "hash");
  add_ext(c, impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
  sign(c, impl_->key.get());
  impl->parent_chain = chain_pem();
  return std::unique_ptr<TestAuthority>(new TestAuthority(std::move(impl)));
}

Issued TestAuthority::issue(const LeafSpec& spec) {
  KeyPtr key = new_key();
  long serial = g_serial++;
  CertPtr c = make_cert(spec.common_name, key.get(), impl_->cert.get(), impl_->key.get(), serial,
                        spec.not_before, spec.not_after);
  add_leaf_exts(c.get(), impl_->cert.get(), spec);
  sign(c.get(), impl_->key.get());
  Issued out;
  out.cert_pem = cert_to_pem(c.get());
  out.key_pem = key_pem(key.get());
  // A peer sends its leaf and intermediates, never the root.
  out.chain_pem = out.cert_pem + (impl_->parent_chain.empty() ? "" : cert_pem());
  out.serial = serial;
  return out;
}

Issued TestAuthority::self_signed(const LeafSpec& spec) {
  KeyPtr key = new_key();
  long serial = g_serial++;
  CertPtr c = make_cert(spec.common_name, key.get(), nullptr, key.get(), serial, spec.not_before,
                        spec.not_after);
  add_leaf_exts(c.get(), c.get(), spec);
  sign(c.get(), key.get());
  Issued out;
  out.cert_pem = cert_to_pem(c.get());
  out.key_pem = key_pem(key.get());
  out.chain_pem = out.cert_pem;
  out.serial = serial;
  return out;
}

void TestAuthority::revoke(long serial) { impl_->revoked.push_back(serial); }

std::string TestAuthority::crl_pem(std::chrono::seconds next_update) const {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(impl_->cert.get()));
  ASN1_TIME* t = ASN1_TIME_adj(nullptr, time(nullptr), 0, -60);
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_free(t);
  t = ASN1_TIME_adj(nullptr, time(nullptr), 0, static_cast<long>(next_update.count()));
  X509_CRL_set1_nextUpdate(crl, t);
  ASN1_TIME_free(t);
  for (long s : impl_->revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    ASN1_INTEGER_set(n, s);
    X509_REVOKED_set_serialNumber(r, n);
    ASN1_INTEGER_free(n);
    ASN1_TIME* rt = ASN1_TIME_adj(nullptr, time(nullptr), 0, -30);
    X509_REVOKED_set_revocationDate(r, rt);
    ASN1_TIME_free(rt);
    X509_CRL_add0_revoked(crl, r);
  }
  X509_CRL_sort(crl);
  check(X509_CRL_sign(crl, impl_->key.get(), EVP_sha256()) > 0, "sign CRL");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(b, crl);
  char* data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(len));
  BIO_free(b);
  X509_CRL_free(crl);
  return s;
}

std::string TestAuthority::cert_pem() const { return cert_to_pem(impl_->cert.get()); }
std::string TestAuthority::chain_pem() const { return cert_pem() + impl_->parent_chain; }

std::filesystem::path Issued::write(const std::filesystem::path& dir, const std::string& name) const {
  write_text(dir / (name + ".crt"), chain_pem);
  write_text(dir / (name + ".key"), key_pem);
  return dir / (name + ".crt");
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  check(static_cast<bool>(f), "write file");
}

std::array<std::uint8_t, 32> spki_sha256(const std::string& cert_pem) {
  BIO* b = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  CertPtr c(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  check(c != nullptr, "read cert");
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.get()), &der);
  std::array<std::uint8_t, 32> h{};
  SHA256(der, static_cast<std::size_t>(len), h.data());
  OPENSSL_free(der);
  return h;
}

}  // namespace armored::testing
