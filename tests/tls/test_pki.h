#pragma once
// Test-only certificate factory (OpenSSL X509 API). Unlike `armored pki`,
// it can make every kind of bad certificate the rejection tests need:
// expired, not yet valid, wrong EKU, other CAs, self-signed, revoked.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace armored::testing {

enum class Eku { kServer, kClient, kBoth, kNone };

struct LeafSpec {
  std::string common_name = "leaf";
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  Eku eku = Eku::kServer;
  // Validity relative to now.
  std::chrono::seconds not_before{-3600};
  std::chrono::seconds not_after{30 * 24 * 3600};
};

struct Issued {
  std::string cert_pem;
  std::string key_pem;
  std::string chain_pem;  // leaf followed by intermediates (what a peer sends)
  long serial = 0;
  // Writes <dir>/<name>.crt (chain), <name>.key; returns the chain path.
  std::filesystem::path write(const std::filesystem::path& dir, const std::string& name) const;
};

class TestAuthority {
 public:
  static std::unique_ptr<TestAuthority> root(const std::string& cn);
  std::unique_ptr<TestAuthority> intermediate(const std::string& cn);
  ~TestAuthority();

  Issued issue(const LeafSpec& spec);
  static Issued self_signed(const LeafSpec& spec);
  void revoke(long serial);
  // A CRL signed by this authority listing revoked serials.
  std::string crl_pem(std::chrono::seconds next_update = std::chrono::hours(24)) const;
  std::string cert_pem() const;
  // This CA's PEM followed by its issuers' (for chain files).
  std::string chain_pem() const;

  struct Impl;

 private:
  explicit TestAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

void write_text(const std::filesystem::path& p, const std::string& text);

// SHA-256 of a PEM certificate's SubjectPublicKeyInfo.
std::array<std::uint8_t, 32> spki_sha256(const std::string& cert_pem);

}  // namespace armored::testing
