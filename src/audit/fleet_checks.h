#pragma once
// The rules of `audit fleet`, as a pure function over what was read from a
// PKI directory and from the cloud's audit trail: no file, database or
// clock is touched here, so every rule is tested with crafted facts.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/finding.h"
#include "audit/fleet_cert.h"

namespace armored::audit {

// One certificate file of the PKI directory.
struct FleetCert {
  std::string identity;  // file stem: <role>/<identity>.crt; "root CA" / "issuing CA" for CAs
  std::string role;      // cloud, gateway, device, ca
  std::string path;      // relative to the PKI directory
  bool indexed = false;  // pki.json names this identity
  std::string index_serial;  // the serial pki.json records for it (normalised)
  std::optional<SysSeconds> revoked_at;  // from pki.json
  CertFacts facts;
};

struct FleetInventory {
  std::vector<FleetCert> cas;
  std::vector<FleetCert> leaves;
  std::optional<CrlFacts> crl;  // absent when crl.pem is missing or unusable
  std::string crl_problem;      // why it is absent
};

// A successful handshake recorded by `armored cloud` (event kind "connected").
struct Connection {
  SysSeconds at{};
  std::string identity;
  std::string serial;  // normalised; empty when the event did not name one
  std::string from;    // peer address
};

// Readings the cloud never got although a later one of the same device and
// epoch arrived (store/store.h, sequence_gaps): the account of every reading.
struct ReadingGap {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t first_missing = 0, last_missing = 0;
  SysSeconds since{};  // when the reading after the gap arrived
};

struct ConnectionFacts {
  std::vector<Connection> connections;
  std::set<std::string> seen;  // identities with stored traffic (devices behind gateways)
  std::string source;          // "sqlite cloud.db", for the report
  std::vector<ReadingGap> gaps;  // at most kMaxFleetGaps listed
  std::uint64_t gaps_total = 0, missing_total = 0;
};

struct FleetCheckOptions {
  SysSeconds now{};
  int expiry_days = 30;
  int crl_warning_days = 7;  // a CRL this close to nextUpdate needs `armored pki crl`
};

// Every rule this scanner knows, for reports.
const std::vector<RuleInfo>& fleet_rules();

// Applies every rule. `connections` is null when no audit trail was given:
// the revoked-but-connected and never-connected rules are then skipped.
std::vector<Finding> check_fleet(const FleetInventory& inventory, const ConnectionFacts* connections,
                                 const FleetCheckOptions& options);

// "serial=0A1B uri=... from=127.0.0.1:5000 ..." -> the value of `key`, or "".
std::string event_field(std::string_view detail, std::string_view key);

}  // namespace armored::audit
