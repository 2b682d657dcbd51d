#pragma once
// `armored audit fleet`: reads a fleet PKI directory (docs/pki.md) and,
// optionally, the cloud's store, and reports shared certificates and keys,
// expiring certificates and CAs, weak keys and signatures, CRL problems,
// revoked identities that still connected and identities that never did.

#include <filesystem>
#include <string>

#include "audit/fleet_checks.h"
#include "audit/report.h"
#include "common/result.h"

namespace armored::audit {

struct FleetOptions {
  std::filesystem::path pki_dir;
  std::filesystem::path sqlite_path;  // the cloud's SQLite store; empty: none
  std::string postgres_conninfo;      // the cloud's PostgreSQL store; empty: none
  std::string postgres_schema = "armored";
  FleetCheckOptions checks;           // now, expiry window
};

// Limits on what is read: one certificate or CRL file, the index, the
// number of certificate files, the audit-trail rows and stored readings.
inline constexpr std::size_t kMaxFleetPemBytes = 64 * 1024;
inline constexpr std::size_t kMaxFleetCrlBytes = 16u << 20;
inline constexpr std::size_t kMaxFleetIndexBytes = 64u << 20;
inline constexpr std::size_t kMaxFleetCertFiles = 200000;
inline constexpr std::size_t kMaxFleetEvents = 2'000'000;
inline constexpr std::size_t kMaxFleetReadingKeys = 5'000'000;
// Reading gaps listed as findings (the totals count all).
inline constexpr std::size_t kMaxFleetGaps = 10'000;

// Reads the PKI directory: CAs, every <role>/*.crt, pki.json, crl.pem.
// Errors only when the directory holds no readable PKI index; unreadable
// certificates are skipped and named in `skipped`.
Expected<FleetInventory> read_fleet_inventory(const std::filesystem::path& pki_dir,
                                              std::vector<std::string>& skipped);

// The whole audit. Errors for an unreadable PKI or an unreachable store.
Expected<Report> audit_fleet(const FleetOptions& options);

}  // namespace armored::audit
