#pragma once
// armored_pki: the fleet PKI behind `armored pki`.
//
// A PKI directory holds a root CA (which may be moved offline after init), an
// issuing intermediate CA, one key pair and certificate per identity, a CRL
// and an index of every identity issued (layout: docs/pki.md). Keys are
// ECDSA P-256, signatures SHA-256. Time is passed in by the caller; nothing
// here asks the clock. Private keys are written 0600 and never returned,
// printed or logged.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace armored::pki {

namespace fs = std::filesystem;
using TimePoint = Clock::TimePoint;

enum class Role { cloud, gateway, device };

// "cloud", "gateway", "device".
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

enum class ErrorCode {
  bad_input,    // a request the caller can fix: bad ID, bad SAN, bad validity
  conflict,     // the PKI or identity already exists
  not_found,    // no PKI in the directory, unknown identity
  ca_unusable,  // CA certificate or key unreadable, mismatched, expired
  busy,         // another process is changing the same PKI directory
  io,           // reading or writing a file failed
  crypto,       // OpenSSL failed while generating, signing or encoding
};

struct Error {
  ErrorCode code = ErrorCode::io;
  std::string message;  // one line, names what was wrong; never key material
};

// True when the caller (a user at the CLI) can fix the cause: exit code 2.
bool is_input_error(const Error& e);

// The general error, component "pki", code the ErrorCode's name.
armored::Error to_error(const Error& e);

template <typename T>
using PkiResult = armored::Result<T, Error>;
using PkiStatus = armored::Result<void, Error>;

// Identity IDs: 1..64 characters from [A-Za-z0-9._-], not starting with '.'.
// The error message names the first offending character or the length.
PkiStatus validate_id(std::string_view id);

struct Validity {
  TimePoint not_before;
  TimePoint not_after;
};

// [now - 5 minutes, now + days]: the small backdate absorbs clock skew on devices.
Validity validity_for_days(TimePoint now, int days);

// "2026-11-26T07:23:43Z" (UTC, seconds), the form used in the index and output.
std::string format_time(TimePoint t);
std::optional<TimePoint> parse_time(std::string_view text);

struct InitOptions {
  std::string name = "Armored Fleet CA";  // CN of the root; the intermediate adds " Issuing CA"
  Validity validity;                      // of both CA certificates
};

struct IssueRequest {
  Role role = Role::device;
  std::string id;
  std::vector<std::string> dns;  // cloud only: subjectAltName DNS names
  std::vector<std::string> ips;  // cloud only: subjectAltName IP addresses (v4 or v6)
  Validity validity;
};

struct FleetRequest {
  std::string prefix = "wearable";  // IDs are <prefix>-<number>, numbers zero-padded
  std::size_t count = 0;       // 1..100000
  Validity validity;
  unsigned threads = 0;        // 0: one per core
};

// One row of the index: what was issued, never the key.
struct Identity {
  std::string id;
  Role role = Role::device;
  std::string serial;  // upper-case hex
  TimePoint not_before;
  TimePoint not_after;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::optional<TimePoint> revoked_at;
};

struct IssuedFiles {
  Identity identity;
  fs::path cert;  // <dir>/<role>/<id>.crt
  fs::path key;   // <dir>/<role>/<id>.key (0600)
  fs::path chain; // <dir>/chain.pem
  // <dir>/<role>/<id>.fullchain.pem: the leaf followed by the issuing CA,
  // the file standard clients (mosquitto_pub --cert, paho tls_set
  // certfile=, openssl s_client -cert) should present.
  fs::path fullchain;
};

struct ListEntry {
  Identity identity;
  bool revoked = false;
  bool expired = false;
  bool expiring_soon = false;  // expires within 30 days of `now`
};

struct VerifyReport {
  bool acceptable = false;
  std::vector<std::string> reasons;  // empty when acceptable
  std::string subject;
  std::string serial;
  std::optional<Role> role;          // from the subjectAltName URI or the EKU
  std::optional<TimePoint> not_after;
};

// Files are read with this size limit; larger inputs are refused.
inline constexpr std::size_t kMaxPemBytes = 64 * 1024;
inline constexpr std::size_t kMaxFleet = 100000;
// A CRL is valid this long after it is signed (revoke and refresh_crl sign one).
inline constexpr std::chrono::hours kCrlValidity{24 * 30};

using Progress = std::function<void(std::size_t done, std::size_t total)>;

// What the dashboard shows of a certificate or CRL file, without a PKI
// directory: the cloud has only its own files (docs/operations.md).
struct CertificateSummary {
  std::string subject;  // one line, "CN = cloud, ..."
  TimePoint not_after;
};
struct CrlSummary {
  TimePoint last_update;
  std::optional<TimePoint> next_update;
  std::size_t revoked = 0;  // entries, over every CRL in the file
};
// The first certificate of a PEM file (a leaf, or a CA file's first CA).
PkiResult<CertificateSummary> inspect_certificate(const fs::path& pem_file);
// Every CRL of a PEM file; the newest lastUpdate and its nextUpdate.
PkiResult<CrlSummary> inspect_crl(const fs::path& pem_file);

// The uncompressed SEC1 point (04 || x || y) of the P-256 key in the first
// certificate of `pem`, read from its SubjectPublicKeyInfo without building
// an OpenSSL key: the cloud reads one certificate per enrolled device at
// start-up, and a million X.509 parses take minutes. Checks the DER up to
// the key, the algorithm (id-ecPublicKey on prime256v1) and the point's
// form; not the signature, nor that the point is on the curve (whoever
// makes a key of it checks that). bad_input for anything else.
PkiResult<std::array<std::uint8_t, 65>> certificate_p256_point(std::string_view pem);

class Authority {
 public:
  enum class Access { read_only, read_write };

  // Creates a new PKI in `dir` (which must not exist, or be an empty
  // directory): root CA, issuing CA, an empty CRL and the index. Nothing is
  // left behind on failure.
  static PkiResult<Authority> create(const fs::path& dir, const InitOptions& options, TimePoint now);

  // Opens an existing PKI. read_write takes an exclusive lock on the
  // directory (released on destruction) and is needed to issue or revoke.
  static PkiResult<Authority> open(const fs::path& dir, Access access);

  Authority(Authority&&) noexcept;
  Authority& operator=(Authority&&) noexcept;
  ~Authority();

  const fs::path& dir() const;
  const std::string& name() const;

  // Issues one identity: checks everything (ID, SANs, validity inside the
  // issuing CA's, CA usable at `now`, ID unused) before writing any file.
  PkiResult<IssuedFiles> issue(const IssueRequest& request, TimePoint now);

  // Issues `count` device identities, each with its own key, using all cores.
  // All checks happen before the first file is written; `progress` is called
  // from the calling thread.
  PkiResult<std::vector<IssuedFiles>> issue_fleet(const FleetRequest& request, TimePoint now,
                                                  const Progress& progress = {});

  // Marks `id` revoked at `now` and re-signs crl.pem. Revoking twice is a conflict.
  PkiStatus revoke(std::string_view id, TimePoint now);

  // Re-signs crl.pem (same revocations, next CRL number, valid 30 days from
  // `now`). Run it well within 30 days of the last revoke or refresh.
  PkiStatus refresh_crl(TimePoint now);

  // Every identity in issue order, with flags relative to `now`.
  std::vector<ListEntry> list(TimePoint now) const;

  // Checks a PEM certificate against this PKI at `now`: chain to the root,
  // validity period, CRL, leaf constraints, and the EKU its role requires.
  // Errors only for unreadable input (not PEM, too large); an unacceptable
  // certificate is a report with reasons.
  PkiResult<VerifyReport> verify_pem(std::string_view pem, TimePoint now) const;
  PkiResult<VerifyReport> verify_file(const fs::path& cert, TimePoint now) const;

  // File locations inside a PKI directory.
  static fs::path root_cert_path(const fs::path& dir);
  static fs::path issuing_cert_path(const fs::path& dir);
  static fs::path chain_path(const fs::path& dir);
  static fs::path crl_path(const fs::path& dir);
  static fs::path index_path(const fs::path& dir);

 private:
  struct State;
  explicit Authority(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace armored::pki
