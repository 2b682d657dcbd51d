#pragma once
// Building the certificates and CRL of a fleet PKI (RFC 5280 profiles in
// docs/pki.md). Pure in-memory operations: no file is touched here.

#include <cstdint>
#include <string>
#include <vector>

#include "pki/ossl.h"
#include "pki/pki.h"

namespace armored::pki {

// Generates P-256 keys. Holds a prepared context so a fleet run does not
// look the algorithm up again per key; use one per thread.
class KeyGenerator {
 public:
  KeyGenerator();
  Expected<ossl::PkeyPtr> generate();

 private:
  ossl::PkeyCtxPtr ctx_;
  bool ready_ = false;
};

// A random positive 128-bit serial number (RFC 5280 4.1.2.2 allows up to 20 octets).
Expected<ossl::AsnIntPtr> random_serial();

// Self-signed root: CA:TRUE (critical), keyCertSign + cRLSign, SKI.
Expected<ossl::X509Ptr> make_root(EVP_PKEY* key, const std::string& name, const Validity& v);

// Issuing CA under the root: CA:TRUE pathlen:0 (critical), keyCertSign + cRLSign, SKI, AKI.
Expected<ossl::X509Ptr> make_issuing(EVP_PKEY* key, const std::string& name, const Validity& v,
                                     X509* root, EVP_PKEY* root_key);

// End-entity certificate for `request` (role, ID, SANs, validity): subject
// CN=<id>, CA:FALSE, digitalSignature + keyAgreement, the role's EKU and
// SAN, AKI (no SKI: see docs/pki.md).
Expected<ossl::X509Ptr> make_leaf(EVP_PKEY* key, const IssueRequest& request, X509* issuer,
                                  EVP_PKEY* issuer_key);

// A v2 CRL signed by `issuer` listing every revoked identity, with
// crlNumber and AKI; nextUpdate = next_update.
Expected<ossl::CrlPtr> make_crl(X509* issuer, EVP_PKEY* issuer_key,
                                const std::vector<const Identity*>& revoked, std::uint64_t number,
                                TimePoint now, TimePoint next_update);

// Subject-alternative-name checks for a cloud identity: RFC 1123 host names
// (no wildcards), IPv4/IPv6 literals. The error names the bad entry.
PkiStatus validate_dns_name(std::string_view name);
PkiStatus validate_ip(std::string_view ip);

// "urn:armored:<role>:<id>", the URI SAN of gateways and devices.
std::string identity_uri(Role role, std::string_view id);

}  // namespace armored::pki
