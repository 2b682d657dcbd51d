#pragma once
// Internal to src/tls: reads a CRL file (PEM, one or more CRLs) and checks
// each CRL's signature against the configured CA and intermediate
// certificates before it is trusted. Used by TlsContext::reload_crl() so a
// truncated, forged or foreign CRL never replaces a good one.

#include <string>
#include <vector>

#include "common/result.h"
#include "tls/config.h"
#include "tls/openssl_util.h"

namespace armored::tls::detail {

using X509CrlPtr = ossl::CrlPtr;

struct VerifiedCrls {
  std::vector<X509CrlPtr> crls;
  std::vector<std::string> revoked_serials;  // ossl::serial_hex, as PeerIdentity::serial
};

// Every CRL in config.crl_file, each signed by a certificate in ca_file,
// intermediates or cert_chain (our own chain carries the issuing CA). Fails naming the file and what was wrong: unreadable, no
// CRL in it, issuer unknown, bad signature.
Expected<VerifiedCrls> load_verified_crls(const TlsConfig& config);

}  // namespace armored::tls::detail
