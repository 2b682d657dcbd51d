#pragma once
// What `audit fleet` needs to know about one certificate or CRL of a fleet
// PKI, read once from PEM. Parsing is bounded by the caller's file-size
// limit; anything OpenSSL cannot read is an error naming what it was.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace armored::audit {

using SysSeconds = std::chrono::sys_seconds;

struct CertFacts {
  std::string subject;      // one-line DN
  std::string serial;       // upper-case hex, as `armored pki` prints it
  std::string fingerprint;  // SHA-256 of the DER certificate, hex
  std::string spki_sha256;  // SHA-256 of the SubjectPublicKeyInfo DER, hex
  std::string uri_identity; // <id> of a urn:armored:<role>:<id> SAN, empty if none
  std::string key_type;     // "EC", "RSA", "ED25519", ...
  std::string curve;        // "prime256v1" for P-256; empty unless EC
  int key_bits = 0;
  std::string signature;    // e.g. "ecdsa-with-SHA256"
  bool weak_signature = false;  // MD2/MD4/MD5/SHA-1 digest
  SysSeconds not_before{};
  SysSeconds not_after{};
  bool is_ca = false;
};

struct CrlFacts {
  std::string issuer;
  SysSeconds last_update{};
  std::optional<SysSeconds> next_update;
  std::uint64_t number = 0;                  // crlNumber, 0 when absent
  std::map<std::string, SysSeconds> revoked;  // normalised serial -> revocation date
};

// Parses one PEM certificate (the first in `pem`).
Expected<CertFacts> read_certificate(std::string_view pem);
// Parses one PEM CRL. `issuer_pem`, when given, must be the certificate
// whose key signed it; a signature that does not verify is an error.
Expected<CrlFacts> read_crl(std::string_view pem, std::string_view issuer_pem = {});

}  // namespace armored::audit
