#pragma once
// The cloud's side of the dashboard (dashboard/dashboard.h): what each view
// shows, from the cloud's live state and its own database connection.
//
// Runs on the dashboard's thread. Live state comes through Feeds, which the
// server implements by posting to its network thread, so nothing here reads
// the network thread's data directly.

#include <functional>
#include <memory>
#include <vector>

#include "cloud/config.h"
#include "cloud/server.h"
#include "common/clock.h"
#include "dashboard/dashboard.h"
#include "pki/pki.h"
#include "store/store.h"

namespace armored::cloud {

// One client connection as the dashboard lists it.
struct ConnectionInfo {
  std::string identity;  // "" before the handshake completes
  std::string role;      // "gateway", "device", "" (handshaking)
  std::string address;   // "127.0.0.1:51234"
  std::string handshake; // "full", "resumed", "0-RTT", "" (handshaking)
  std::int64_t since_ms = 0;
};

// At most `limit` open connections, the longest-open first, and how many
// are open: the dashboard never carries every connection of a large fleet.
struct ConnectionPage {
  std::vector<ConnectionInfo> rows;
  std::size_t total = 0;
};

// The cloud's certificate, CA and CRL files as the operator's view shows
// them. Reading them parses PEM, so the operator's view caches one copy
// for the metrics and the dashboard (OperatorView, every 30 s).
struct CertificateFacts {
  pki::PkiResult<pki::CertificateSummary> cloud;
  pki::PkiResult<pki::CertificateSummary> ca;
  std::optional<pki::PkiResult<pki::CrlSummary>> crl;  // nullopt: no CRL configured
};
CertificateFacts read_certificate_facts(const CloudConfig& config);

struct DashboardFeeds {
  std::function<CloudStatus()> status;                          // thread-safe
  std::function<ConnectionPage(std::size_t limit)> connections;  // thread-safe
  std::function<CertificateFacts()> certificates;               // thread-safe; unset: read the files each time
  std::function<void(store::SecurityEvent)> audit;           // thread-safe; the audit trail's limits apply
  // Seal-to-stored latency: cumulative bucket counts (upper bounds in
  // seconds, the last +Inf) from the storage thread's histogram.
  std::function<std::vector<std::pair<double, double>>()> seal_to_stored;
};

class CloudDashboardSource final : public dashboard::Source {
 public:
  // The overview lists at most this many connections (the rest are counted).
  static constexpr std::size_t kConnectionRows = 500;

  CloudDashboardSource(const CloudConfig& config, std::unique_ptr<store::Store> store, DashboardFeeds feeds,
                       Clock& clock);

  nlohmann::json overview() override;
  Expected<nlohmann::json> devices(const dashboard::DevicePageRequest& request) override;
  Expected<nlohmann::json> gaps(std::size_t limit) override;
  Expected<nlohmann::json> events(std::size_t limit) override;
  Expected<nlohmann::json> commands(std::size_t limit) override;
  std::map<std::string, double> rate_counters() override;
  void record_auth_failure(std::string_view peer, std::string_view why) override;

  std::uint64_t auth_failures() const { return auth_failures_; }

 private:
  nlohmann::json certificates();
  // p50 of the seal-to-stored latency since the previous call (null: none stored).
  nlohmann::json latency_p50();

  const CloudConfig& config_;
  std::unique_ptr<store::Store> store_;
  DashboardFeeds feeds_;
  Clock& clock_;
  std::vector<std::pair<double, double>> last_buckets_;
  nlohmann::json last_p50_;
  std::uint64_t auth_failures_ = 0;
};

// `armored status` and the overview share this: the snapshot in JSON.
nlohmann::json status_json(const CloudStatus& s);

}  // namespace armored::cloud
