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

struct DashboardFeeds {
  std::function<CloudStatus()> status;                       // thread-safe
  std::function<std::vector<ConnectionInfo>()> connections;  // thread-safe
  std::function<void(store::SecurityEvent)> audit;           // thread-safe; the audit trail's limits apply
  // Seal-to-stored latency: cumulative bucket counts (upper bounds in
  // seconds, the last +Inf) from the storage thread's histogram.
  std::function<std::vector<std::pair<double, double>>()> seal_to_stored;
};

class CloudDashboardSource final : public dashboard::Source {
 public:
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
