#pragma once
// What an open PKI directory holds in memory, shared by the files that
// implement Authority (authority.cpp, fleet.cpp, verify.cpp).

#include <sys/types.h>

#include <chrono>

#include "pki/index.h"
#include "pki/ossl.h"
#include "pki/pki.h"

namespace armored::pki {

// Layout of a PKI directory (docs/pki.md).
inline constexpr const char* kIndexFile = "pki.json";
inline constexpr const char* kRootCertFile = "root-ca.crt";
inline constexpr const char* kIssuingCertFile = "issuing-ca.crt";
inline constexpr const char* kChainFile = "chain.pem";
inline constexpr const char* kCrlFile = "crl.pem";
inline constexpr const char* kPrivateDir = "private";
inline constexpr const char* kRootKeyFile = "root-ca.key";
inline constexpr const char* kIssuingKeyFile = "issuing-ca.key";
inline constexpr auto kExpiringSoon = std::chrono::hours(24 * 30);

inline fs::path role_dir(const fs::path& dir, Role role) { return dir / std::string(role_name(role)); }
inline fs::path leaf_cert_path(const fs::path& dir, Role role, const std::string& id) {
  return role_dir(dir, role) / (id + ".crt");
}
inline fs::path leaf_fullchain_path(const fs::path& dir, Role role, const std::string& id) {
  return role_dir(dir, role) / (id + ".fullchain.pem");
}
inline fs::path leaf_key_path(const fs::path& dir, Role role, const std::string& id) {
  return role_dir(dir, role) / (id + ".key");
}

inline Unexpected<Error> pki_error(ErrorCode code, std::string message) {
  return unexpected(Error{code, std::move(message)});
}

struct Authority::State {
  fs::path dir;
  Index index;
  ossl::X509Ptr root;
  ossl::X509Ptr issuing;
  ossl::PkeyPtr signing_key;  // the issuing CA key, loaded by the first signing operation
  int lock_fd = -1;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State();

  // Loads the issuing key (once) and checks both CA certificates are valid at `now`.
  PkiStatus prepare_signing(TimePoint now);
  // A leaf must start before it ends and end no later than the issuing CA.
  PkiStatus check_leaf_validity(const Validity& v) const;
  PkiStatus save_index(const Index& next) const;
  // Signs and writes crl.pem listing every revoked identity of `next` (with
  // the next CRL number), then makes `next` the index on disk and in memory.
  PkiStatus publish_crl(Index next, TimePoint now);
  IssuedFiles files_for(const Identity& identity) const;
};

// mkdir (if missing) and chmod to `mode`: role directories are 0700.
Status make_dir(const fs::path& p, mode_t mode);

// Builds the index row of a freshly signed certificate.
Expected<Identity> identity_from_cert(X509* cert, const IssueRequest& request);

}  // namespace armored::pki
