// Authority::verify_*: is this certificate acceptable to our TLS layer? The
// chain, validity and CRL checks are OpenSSL's; the verify callback records
// every problem instead of stopping at the first, so the report lists all of
// them. Leaf rules (not a CA, P-256, role-specific EKU and SAN, known serial)
// are ours.

#include <openssl/x509_vfy.h>

#include <algorithm>

#include "common/file_io.h"
#include "pki/internal/authority_state.h"
#include "pki/certs.h"

namespace armored::pki {

namespace {

struct Finding {
  int error;
  int depth;
  X509* cert;  // borrowed from the store context while it lives
};

int collect_findings(int ok, X509_STORE_CTX* ctx) {
  if (!ok) {
    auto* findings = static_cast<std::vector<Finding>*>(X509_STORE_CTX_get_app_data(ctx));
    findings->push_back({X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_error_depth(ctx),
                         X509_STORE_CTX_get_current_cert(ctx)});
  }
  return 1;  // keep going: report every problem, not just the first
}

std::string name_text(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) < 0) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

std::string time_text(const ASN1_TIME* t) {
  auto tp = ossl::from_asn1_time(t);
  return tp ? format_time(*tp) : "an unreadable date";
}

std::string describe(const Finding& f, X509* leaf, X509_CRL* crl) {
  X509* cert = f.cert ? f.cert : leaf;
  std::string what = f.depth == 0 ? "certificate" : "CA certificate " + name_text(X509_get_subject_name(cert));
  switch (f.error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return what + " expired on " + time_text(X509_get0_notAfter(cert));
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return what + " is not valid until " + time_text(X509_get0_notBefore(cert));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "wrong CA: not issued by this PKI (issuer " + name_text(X509_get_issuer_name(cert)) + ")";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "wrong CA: the signature does not verify with this PKI's issuing CA key";
    case X509_V_ERR_CERT_REVOKED: {
      X509_REVOKED* entry = nullptr;
      if (crl && X509_CRL_get0_by_cert(crl, &entry, cert) == 1 && entry)
        return "revoked on " + time_text(X509_REVOKED_get0_revocationDate(entry));
      return "revoked";
    }
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return "the CRL expired on " + time_text(X509_CRL_get0_nextUpdate(crl)) +
             "; revocation cannot be checked until it is re-signed";
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return "the CRL is not valid yet; revocation cannot be checked";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return "no usable CRL; revocation cannot be checked";
    default:
      return what + ": " + X509_verify_cert_error_string(f.error);
  }
}

// The role named by a urn:armored:<role>:<id> URI, if the certificate has one.
std::optional<Role> uri_role(X509* cert, bool& has_dns_or_ip) {
  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  std::optional<Role> role;
  has_dns_or_ip = false;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS || gn->type == GEN_IPADD) has_dns_or_ip = true;
    if (gn->type != GEN_URI) continue;
    std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                    static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
    constexpr std::string_view kPrefix = "urn:armored:";
    if (uri.rfind(kPrefix, 0) != 0) continue;
    auto rest = std::string_view(uri).substr(kPrefix.size());
    auto colon = rest.find(':');
    if (colon != std::string_view::npos) role = parse_role(rest.substr(0, colon));
  }
  return role;
}

void check_leaf(X509* cert, VerifyReport& report, std::vector<std::string>& reasons) {
  if (X509_check_ca(cert) != 0) reasons.push_back("is a CA certificate, not an identity");
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  char group[64] = {0};
  std::size_t glen = 0;
  if (!pub || !EVP_PKEY_is_a(pub, "EC") ||
      EVP_PKEY_get_group_name(pub, group, sizeof group, &glen) != 1 ||
      (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256"))
    reasons.push_back("key is not ECDSA P-256");
  ossl::clear_errors();

  bool has_dns_or_ip = false;
  auto role = uri_role(cert, has_dns_or_ip);
  bool has_eku = (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0;
  std::uint32_t eku = X509_get_extended_key_usage(cert);
  bool server = has_eku && (eku & XKU_SSL_SERVER);
  bool client = has_eku && (eku & XKU_SSL_CLIENT);
  if (!role && server) role = Role::cloud;
  report.role = role;
  if (!role) {
    reasons.push_back("no Armored role: neither a urn:armored URI nor the serverAuth EKU");
    return;
  }
  const char* needed = *role == Role::cloud ? "serverAuth" : "clientAuth";
  bool ok = *role == Role::cloud ? server : client;
  if (!has_eku)
    reasons.push_back(std::string("wrong EKU: no extendedKeyUsage; a ") + std::string(role_name(*role)) +
                      " certificate needs " + needed);
  else if (!ok)
    reasons.push_back(std::string("wrong EKU: extendedKeyUsage lacks ") + needed + ", which a " +
                      std::string(role_name(*role)) + " certificate needs");
  if (*role == Role::cloud && !has_dns_or_ip)
    reasons.push_back("a cloud certificate needs a DNS or IP subjectAltName");
}

}  // namespace

PkiResult<VerifyReport> Authority::verify_pem(std::string_view pem, TimePoint now) const {
  if (pem.size() > kMaxPemBytes)
    return pki_error(ErrorCode::bad_input, "certificate is larger than " + std::to_string(kMaxPemBytes) + " bytes");
  auto cert = ossl::cert_from_pem(pem, "input");
  if (!cert) return pki_error(ErrorCode::bad_input, cert.error().message);

  VerifyReport report;
  report.subject = name_text(X509_get_subject_name(cert->get()));
  report.serial = ossl::serial_hex(X509_get0_serialNumber(cert->get()));
  if (auto na = ossl::from_asn1_time(X509_get0_notAfter(cert->get()))) report.not_after = *na;
  std::vector<std::string> reasons;

  ossl::CrlPtr crl;
  auto crl_text = read_text_file(s_->dir / kCrlFile, 64u << 20);
  if (crl_text) {
    auto parsed = ossl::crl_from_pem(*crl_text, kCrlFile);
    if (parsed) crl = std::move(*parsed);
  }
  if (!crl) reasons.push_back("cannot read " + (s_->dir / kCrlFile).string() + "; revocation cannot be checked");

  ossl::StorePtr store(X509_STORE_new());
  ossl::StoreCtxPtr ctx(X509_STORE_CTX_new());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  std::vector<Finding> findings;
  bool ready = store && ctx && untrusted && X509_STORE_add_cert(store.get(), s_->root.get()) == 1 &&
               sk_X509_push(untrusted, s_->issuing.get()) > 0 &&
               (!crl || X509_STORE_add_crl(store.get(), crl.get()) == 1) &&
               X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), untrusted) == 1;
  if (ready) {
    if (crl) X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_CRL_CHECK);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(unix_seconds(now)));
    X509_STORE_CTX_set_verify_cb(ctx.get(), collect_findings);
    X509_STORE_CTX_set_app_data(ctx.get(), &findings);
    if (X509_verify_cert(ctx.get()) <= 0 && findings.empty())
      reasons.push_back(ossl::error_text("chain verification failed"));
    for (const auto& f : findings) reasons.push_back(describe(f, cert->get(), crl.get()));
  } else {
    reasons.push_back(ossl::error_text("cannot set up chain verification"));
  }
  ctx.reset();
  sk_X509_free(untrusted);  // the stack only borrowed the issuing certificate
  ossl::clear_errors();

  check_leaf(cert->get(), report, reasons);
  auto& ids = s_->index.identities();
  bool known = std::any_of(ids.begin(), ids.end(), [&](const Identity& i) { return i.serial == report.serial; });
  if (!known) reasons.push_back("serial " + report.serial + " is not in this PKI's index");

  for (auto& r : reasons)
    if (std::find(report.reasons.begin(), report.reasons.end(), r) == report.reasons.end())
      report.reasons.push_back(std::move(r));
  report.acceptable = report.reasons.empty();
  return report;
}

PkiResult<VerifyReport> Authority::verify_file(const fs::path& cert, TimePoint now) const {
  auto text = read_text_file(cert, kMaxPemBytes);
  if (!text) return pki_error(ErrorCode::bad_input, text.error().message);
  auto report = verify_pem(*text, now);
  if (!report && report.error().code == ErrorCode::bad_input)
    return pki_error(ErrorCode::bad_input, cert.string() + ": " + report.error().message);
  return report;
}

}  // namespace armored::pki
