#pragma once
// Certificates for the audit tests, made with the OpenSSL API so validity
// windows can lie in the past (the 3.0 CLI cannot back-date notBefore).

#include <filesystem>
#include <string>
#include <vector>

namespace armored::testing {

struct CertFiles {
  std::filesystem::path cert;  // PEM
  std::filesystem::path key;   // PEM, mode 0600
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  long not_before_days = -1;  // relative to now
  long not_after_days = 365;
  bool rsa = false;           // RSA-2048 instead of EC P-256
  bool is_ca = false;
};

// Self-signed when `issuer` is null.
CertFiles make_cert(const std::filesystem::path& dir, const std::string& stem, const CertSpec& spec,
                    const CertFiles* issuer = nullptr);

}  // namespace armored::testing
