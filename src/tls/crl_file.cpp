#include "tls/internal/crl_file.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <string_view>

#include "ossl/ossl.h"
#include "common/file_io.h"

namespace armored::tls::detail {
namespace {

constexpr std::size_t kMaxCrls = 64;  // a fleet has one issuing CA or a few; more is a broken file
constexpr std::size_t kMaxCrlFileBytes = 64u << 20;
constexpr std::string_view kCrlBegin = "-----BEGIN X509 CRL-----";

// Every certificate in a PEM file (empty path: none).
Expected<std::vector<X509Ptr>> read_certificates(const std::filesystem::path& path) {
  std::vector<X509Ptr> out;
  if (path.empty()) return out;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    clear_error_queue();
    return fail("cannot open " + path.string());
  }
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  clear_error_queue();  // the loop ends on "no start line" at end of file
  return out;
}

}  // namespace

Expected<VerifiedCrls> load_verified_crls(const TlsConfig& c) {
  const std::string name = c.crl_file.string();
  if (c.crl_file.empty()) return fail("no CRL file configured");
  std::vector<X509Ptr> issuers;
  for (const auto& f : {c.ca_file, c.intermediates, c.cert_chain}) {
    auto certs = read_certificates(f);
    if (!certs) return unexpected(certs.error());
    for (auto& x : *certs) issuers.push_back(std::move(x));
  }
  auto text = read_text_file(c.crl_file, kMaxCrlFileBytes);
  if (!text) return fail("cannot read CRL file " + name, text.error());
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  if (!bio) return fail("cannot allocate a buffer for " + name);
  VerifiedCrls out;
  while (X509_CRL* raw = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    X509CrlPtr crl(raw);
    if (out.crls.size() >= kMaxCrls) return fail(name + ": more than 64 CRLs");
    const X509* issuer = nullptr;
    for (const auto& x : issuers) {
      if (X509_NAME_cmp(X509_get_subject_name(x.get()), X509_CRL_get_issuer(crl.get())) == 0) issuer = x.get();
    }
    if (issuer == nullptr) {
      clear_error_queue();
      return fail(name + ": CRL issuer is not among the configured CA, intermediate and own chain certificates");
    }
    if (X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)) != 1) {
      clear_error_queue();
      return fail(name + ": CRL signature does not verify with its issuer's key");
    }
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
      out.revoked_serials.push_back(ossl::serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
    }
    out.crls.push_back(std::move(crl));
  }
  clear_error_queue();  // the loop ends at end of data or on a damaged block
  // A truncated or damaged block ends the loop early without telling why:
  // every CRL the file announces must have been read.
  std::size_t announced = 0;
  for (auto at = text->find(kCrlBegin); at != std::string::npos; at = text->find(kCrlBegin, at + 1)) ++announced;
  if (announced != out.crls.size()) {
    return fail(name + ": damaged PEM data (" + std::to_string(out.crls.size()) + " of " + std::to_string(announced) +
                " CRLs readable)");
  }
  if (out.crls.empty()) return fail(name + ": no CRL in the file");
  return out;
}

}  // namespace armored::tls::detail
