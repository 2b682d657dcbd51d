#pragma once
// `armored cloud`: one TLS 1.3 + MQTT listener with mutual TLS. Each
// verified gateway may publish E3 envelopes to its own uplink topic; every
// envelope is opened, validated, deduplicated and stored durably before the
// PUBLISH is acknowledged. Rejections of every kind go to the audit trail.
//
// With [broker] configured, a second source subscribes to a standard MQTT
// broker and feeds the same ingest and storage (broker_source.h).
//
// Threads: one network thread (TLS, MQTT, E3) and one storage thread.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cloud/config.h"
#include "common/clock.h"
#include "common/result.h"

namespace armored::cloud {

struct CloudStatus {
  std::size_t connections = 0;
  std::uint64_t handshakes_full = 0, handshakes_resumed = 0, handshakes_zero_rtt = 0;
  std::uint64_t handshakes_failed = 0;
  std::uint64_t messages = 0, readings_stored = 0, duplicates = 0, rejected = 0;
  std::uint64_t announcements = 0, acl_denied = 0, early_data_refused = 0;
  std::uint64_t commits = 0, storage_failures = 0;
  bool storage_failing = false;   // commits fail now; nothing is acknowledged until they work again
  std::uint64_t late_readings = 0;  // opened left of the replay window; storage decided
  // The broker source ([broker] in the config), when configured.
  bool broker_enabled = false, broker_connected = false, broker_session_resumed = false;
  std::uint64_t broker_messages = 0, broker_connect_failures = 0;
  std::uint64_t redelivered = 0;  // duplicates that came in a DUP=1 PUBLISH (a subset of rejected)
  // Connection admission (admission.h): refused at a limit, pending
  // handshakes evicted at the global limit, oldest connections of an
  // identity replaced by a newer one.
  std::uint64_t refused_connections = 0, evicted_handshakes = 0, replaced_by_identity = 0;
  // Audit aggregation (audit_limiter.h): events counted in summary rows
  // instead of a row each, and rows dropped below the disk reserve.
  std::uint64_t audit_events_summarized = 0, audit_rows_not_stored = 0;

  // For metrics and `armored status` (docs/operations.md): the totals above
  // broken down, and what the status line leaves out.
  std::uint64_t connections_handshaking = 0;  // of `connections`, TLS handshake not done yet
  std::vector<std::pair<std::string, std::uint64_t>> connections_by_role;  // "gateway", "device", ...
  std::vector<std::pair<std::string, std::uint64_t>> rejected_by_reason;   // every reason, 0 included
  std::vector<std::pair<std::string, std::uint64_t>> handshake_failures_by_reason;  // non-zero only
  std::uint64_t readings_opened = 0;  // opened and valid, before storage's duplicate check
  std::uint64_t early_data_accepted = 0, early_data_rejected = 0, early_data_replays_refused = 0;
  std::uint64_t commands_sent = 0, commands_acknowledged = 0, commands_refused_by_device = 0,
                commands_refused_by_cloud = 0, commands_no_route = 0, commands_expired = 0;
  double crl_age_seconds = -1;            // since the CRL's lastUpdate; -1: no CRL configured
  double certificate_expiry_seconds = 0;  // until the cloud's own certificate expires
  // Readings missing from devices' sequences and the (device, epoch) series
  // with a hole, as `armored report gaps` counts them; refreshed about once
  // a minute (-1: not counted yet).
  std::int64_t gap_readings = -1, gap_series = -1;
  // A front of a scaled cloud ([cluster] role = "front"): uplink PUBLISHes
  // JetStream stored (then acknowledged), publishes retried, and those
  // waiting for JetStream now.
  bool front = false;
  std::uint64_t jetstream_published = 0, jetstream_retries = 0, jetstream_waiting = 0;
  bool nats_connected = false;
  // Messages a front refused on the command subjects between roles, by
  // subject and reason ("bad_device", "oversized", "malformed"), 0 included.
  struct BusRefused {
    std::string subject, reason;
    std::uint64_t count = 0;
  };
  std::vector<BusRefused> bus_refused;
};

class CloudServer {
 public:
  // Loads keys, the device registry and the store; binds nothing yet.
  static Expected<std::unique_ptr<CloudServer>> create(const CloudConfig& config, Clock& clock);
  ~CloudServer();

  // Binds the listener (port 0 picks a free port) and returns the port.
  Expected<std::uint16_t> listen();
  // Serves until stop() or SIGTERM/SIGINT, then drains storage and persists
  // E3 state. A storage outage does not stop it: commits are retried and
  // nothing is acknowledged meanwhile. Returns 0 on a clean stop, 1 if it
  // stopped while storage was failing (what was not stored was not
  // acknowledged either, and its senders keep it).
  int run();
  // Thread-safe.
  void stop();
  // Thread-safe: from another thread while serving, a copy taken on the
  // network thread (or the last one, if that thread is busy for 2 s).
  CloudStatus status() const;
  // Where [metrics] and [dashboard] listen, for the start-up banner (empty
  // when both are off). Valid after listen().
  std::vector<std::string> operator_view() const;

  struct Impl;

 private:
  explicit CloudServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `armored cloud --check`: the storage's own integrity check (SQLite: PRAGMA
// quick_check over every page). A failed check is also recorded in the
// audit trail when the database still takes a write.
struct DatabaseCheck {
  bool ok = false;
  std::string report;        // "ok" or the problems found
  double seconds = 0;
  std::uint64_t bytes = 0;   // size of the SQLite file (0 for PostgreSQL)
};
Expected<DatabaseCheck> check_database(const CloudConfig& config);

// One status line for people: "3 gateways, 41,230 readings/s stored, ...".
std::string format_status(const CloudStatus& now, const CloudStatus& before, double seconds);

}  // namespace armored::cloud
