// inspect_certificate / inspect_crl: the dates and counts an operator's
// view shows, read from the PEM files a server was configured with.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/file_io.h"
#include "pki/internal/authority_state.h"
#include "pki/ossl.h"
#include "pki/pki.h"

namespace armored::pki {

namespace {

std::string one_line(const X509_NAME* name) {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) < 0) return "?";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

PkiResult<std::string> read_pem(const fs::path& file) {
  auto text = read_text_file(file, kMaxPemBytes * 16);  // a CRL of a large fleet is bigger than one certificate
  if (!text) return pki_error(ErrorCode::bad_input, text.error().message);
  return std::move(*text);
}

}  // namespace

PkiResult<CertificateSummary> inspect_certificate(const fs::path& pem_file) {
  auto pem = read_pem(pem_file);
  if (!pem) return unexpected(pem.error());
  auto cert = ossl::cert_from_pem(*pem, pem_file.string());
  if (!cert) return pki_error(ErrorCode::bad_input, cert.error().message);
  auto not_after = ossl::from_asn1_time(X509_get0_notAfter(cert->get()));
  if (!not_after) return pki_error(ErrorCode::bad_input, pem_file.string() + ": " + not_after.error().message);
  return CertificateSummary{one_line(X509_get_subject_name(cert->get())), *not_after};
}

PkiResult<CrlSummary> inspect_crl(const fs::path& pem_file) {
  auto pem = read_pem(pem_file);
  if (!pem) return unexpected(pem.error());
  ossl::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return pki_error(ErrorCode::crypto, "out of memory");
  CrlSummary out;
  bool any = false;
  for (;;) {
    ossl::CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) break;
    auto last = ossl::from_asn1_time(X509_CRL_get0_lastUpdate(crl.get()));
    if (!last) return pki_error(ErrorCode::bad_input, pem_file.string() + ": " + last.error().message);
    if (!any || *last > out.last_update) {
      out.last_update = *last;
      out.next_update.reset();
      if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get())) {
        auto n = ossl::from_asn1_time(next);
        if (n) out.next_update = *n;
      }
    }
    if (auto* revoked = X509_CRL_get_REVOKED(crl.get())) out.revoked += static_cast<std::size_t>(sk_X509_REVOKED_num(revoked));
    any = true;
  }
  ossl::clear_errors();  // the loop ends on "no start line"
  if (!any) return pki_error(ErrorCode::bad_input, pem_file.string() + ": no CRL in it");
  return out;
}

}  // namespace armored::pki
