#include "audit/internal/tls_chain.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <memory>

#include "ossl/ossl.h"

namespace armored::audit {

namespace {

std::string name_text(const X509_NAME* n) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string time_text(const ASN1_TIME* t) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print_ex(bio.get(), t, ASN1_DTFLGS_ISO8601);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// Seconds from `now` to `t` (negative in the past).
long long seconds_until(const ASN1_TIME* t, std::time_t now) {
  ossl::AsnTimePtr n(ASN1_TIME_set(nullptr, now));
  int days = 0, secs = 0;
  if (!n || ASN1_TIME_diff(&days, &secs, n.get(), t) != 1) return 0;
  return static_cast<long long>(days) * 86400 + secs;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

ChainFacts check_chain(STACK_OF(X509)* chain, const std::string& name, const std::string& ca_file,
                       std::time_t now) {
  ChainFacts f;
  f.chain_length = sk_X509_num(chain);
  X509* leaf = sk_X509_value(chain, 0);
  f.subject = name_text(X509_get_subject_name(leaf));
  f.issuer = name_text(X509_get_issuer_name(leaf));
  f.not_before = time_text(X509_get0_notBefore(leaf));
  f.not_after = time_text(X509_get0_notAfter(leaf));
  long long until_end = seconds_until(X509_get0_notAfter(leaf), now);
  long long since_start = -seconds_until(X509_get0_notBefore(leaf), now);
  f.days_left = static_cast<long>(until_end / 86400);
  if (until_end < 0) {
    f.problems.emplace_back("tls-cert-expired", "notAfter " + f.not_after);
  } else if (until_end < 30LL * 86400) {
    f.problems.emplace_back("tls-cert-expiring",
                            "notAfter " + f.not_after + " (" + std::to_string(f.days_left) + " days)");
  }
  if (since_start < 0) f.problems.emplace_back("tls-cert-not-yet-valid", "notBefore " + f.not_before);

  EVP_PKEY* key = X509_get0_pubkey(leaf);
  if (key) {
    int id = EVP_PKEY_get_base_id(key);
    f.key_bits = EVP_PKEY_get_bits(key);
    const char* tn = OBJ_nid2sn(id);
    f.key_type = tn ? tn : "unknown";
    char group[64] = {};
    size_t glen = 0;
    if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) == 1) {
      f.key_type += std::string(" ") + group;
    }
    bool weak = ((id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA) && f.key_bits < 2048) ||
                (id == EVP_PKEY_EC && f.key_bits < 256);
    if (weak) f.problems.emplace_back("tls-cert-weak-key", f.key_type + " " + std::to_string(f.key_bits) + " bits");
  }
  int sig_nid = X509_get_signature_nid(leaf);
  const char* sig_name = OBJ_nid2ln(sig_nid);
  f.signature = sig_name ? sig_name : "unknown";
  int md_nid = 0, pk_nid = 0;
  if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1 &&
      (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_md4 || md_nid == NID_md2)) {
    f.problems.emplace_back("tls-cert-weak-signature", f.signature);
  }

  f.name_match = is_ip(name) ? X509_check_ip_asc(leaf, name.c_str(), 0) == 1
                             : X509_check_host(leaf, name.c_str(), name.size(), 0, nullptr) == 1;
  if (!f.name_match) {
    f.problems.emplace_back("tls-cert-hostname-mismatch", "'" + name + "' not in certificate " + f.subject);
  }

  f.self_signed = X509_check_issued(leaf, leaf) == X509_V_OK && X509_verify(leaf, X509_get0_pubkey(leaf)) == 1;
  ERR_clear_error();
  if (f.self_signed) f.problems.emplace_back("tls-cert-self-signed", "subject = issuer = " + f.subject);

  // Verify the chain the server sent, ourselves, against the trust anchor.
  ossl::StorePtr store(X509_STORE_new());
  bool loaded = false;
  if (!ca_file.empty()) {
    loaded = X509_STORE_load_file(store.get(), ca_file.c_str()) == 1;
    f.trust_anchor = ca_file;
  } else {
    loaded = X509_STORE_set_default_paths(store.get()) == 1;
    f.trust_anchor = "system store";
  }
  ossl::StoreCtxPtr vctx(X509_STORE_CTX_new());
  if (loaded && vctx && X509_STORE_CTX_init(vctx.get(), store.get(), leaf, chain) == 1) {
    X509_STORE_CTX_set_purpose(vctx.get(), X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(vctx.get()), now);
    f.verified = X509_verify_cert(vctx.get()) == 1;
    if (!f.verified) f.verify_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.get()));
  } else {
    f.verify_error = "cannot load trust anchors from " + f.trust_anchor;
  }
  ERR_clear_error();
  if (!f.verified) f.problems.emplace_back("tls-cert-untrusted", f.verify_error + " (against " + f.trust_anchor + ")");
  return f;
}

nlohmann::json ChainFacts::to_json() const {
  return {{"subject", subject},         {"issuer", issuer},
          {"not_before", not_before},   {"not_after", not_after},
          {"days_left", days_left},     {"key_type", key_type},
          {"key_bits", key_bits},       {"signature", signature},
          {"self_signed", self_signed}, {"name_match", name_match},
          {"verified", verified},       {"verify_error", verify_error},
          {"trust_anchor", trust_anchor}, {"chain_length", chain_length}};
}

std::vector<std::string> ChainFacts::summary() const {
  return {"certificate: " + subject + " issued by " + issuer,
          "  valid " + not_before + " .. " + not_after + " (" + std::to_string(days_left) + " days left), " +
              key_type + " " + std::to_string(key_bits) + " bits, " + signature,
          std::string("  chain of ") + std::to_string(chain_length) + ": " +
              (verified ? "verifies" : "does not verify (" + verify_error + ")") + " against " +
              trust_anchor + "; host name " + (name_match ? "matches" : "does not match")};
}

}  // namespace armored::audit
