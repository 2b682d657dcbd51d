#pragma once
// End-to-end fixture: a PKI, `armored cloud`, `armored gateway` and
// `armored fleet` as real processes on 127.0.0.1 in a private directory, and
// the checks that every sealed reading is stored exactly once.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace armored::pipeline_test {

using Process = std::unique_ptr<armored::testing::Subprocess>;

struct FleetRun {
  int exit_code = -1;
  std::int64_t readings = -1;
  std::int64_t acknowledged = -1;
  std::int64_t unacknowledged = -1;
  std::int64_t dropped = -1;
  std::int64_t readings_acknowledged = -1;  // readings the gateway answered "spooled"
  std::string sealer;                       // "cxx" or "device-sdk"
};

// `armored report gaps --db cloud.db --json`: the cloud's account of what it lacks.
struct GapReport {
  int exit_code = -1;
  std::int64_t gaps = -1, missing = -1, stored = -1;
};

struct Handshakes {
  std::int64_t full = -1, resumed = -1, zero_rtt = -1, failed = -1;
};

class PipelineTest : public ::testing::Test {
 protected:
  std::filesystem::path dir() const { return tmp_.path(); }
  std::filesystem::path db() const { return tmp_ / db_name_; }

  // PKI with a cloud certificate, the given gateways and `devices` enrolled wearables.
  void make_pki(int devices, const std::vector<std::string>& gateways = {"gw1"});
  // Writes cloud.toml for cloud_port_ (0: any free port).
  void write_cloud_config();
  // Starts the cloud (port 0 the first time, then the same port) and waits for its port.
  Process start_cloud();
  // Starts gateway `id` forwarding to the cloud; UDP port 0 the first time, then the same.
  Process start_gateway(const std::string& id = "gw1");
  // `armored --json fleet` of the first `devices` wearables sending to `udp_port`.
  Process start_fleet(int devices, double speedup, double seconds, int udp_port, const std::string& tag = "fleet");
  FleetRun finish_fleet(armored::testing::Subprocess& fleet, const std::string& tag = "fleet",
                        std::chrono::seconds timeout = std::chrono::seconds(120));
  // Waits until the cloud has stored `count` readings (false on timeout).
  bool wait_for_stored(std::int64_t count, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Every reading stored once: count == sealed, no duplicate (device, epoch,
  // seq), and per (device, epoch) the sequence numbers have no gap.
  void expect_exactly_once(std::int64_t sealed);
  // The audit trail holds nothing but dropped duplicates: "redelivered" (in
  // a DUP=1 PUBLISH) or "replayed" (e.g. a device re-sent to a restarted gateway).
  void expect_only_duplicates_audited();
  GapReport gap_report() const;
  // The fault suite's result line, "fault | sent | stored | lost |
  // duplicated | recovered without a manual step", printed and checked:
  // lost and duplicated must be 0, and stored must equal what the gateway
  // answered (the fleet's readings_acknowledged) and what it sealed.
  void expect_fault_row(const std::string& fault, const FleetRun& f, bool recovered_by_itself);
  // SIGTERM, wait, parse the "armored cloud stopped" line.
  Handshakes stop_cloud(Process& cloud);

  std::string sql(const std::string& query) const;
  std::int64_t sql_int(const std::string& query) const;

  // Waits until `file` contains `needle`; returns its content (empty on timeout).
  static std::string wait_for_text(const std::filesystem::path& file, const std::string& needle,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::vector<std::string> armored(std::vector<std::string> args) const;

  armored::testing::TempDir tmp_;
  // [status] interval_s of the cloud and gateway configs.
  int status_interval_s_ = 1;
  // Lines added to cloud.toml's [listen] section (e.g. max_connections).
  std::string cloud_listen_extra_;
  // Lines added to cloud.toml's [tls] section (e.g. crl_check_interval_s).
  std::string cloud_tls_extra_;
  // Appended to cloud.toml (e.g. a [broker] section).
  std::string cloud_extra_config_;
  // Lines of the gateways' [forward] section (e.g. confirm = "receipt").
  std::string gateway_forward_toml_;
  // Lines added to the gateways' [cloud] section (e.g. alternates = [...]).
  std::string gateway_cloud_toml_;
  // Appended to the gateways' configs (e.g. a [metrics] section).
  std::string gateway_extra_config_;
  // Lines added to the gateways' [spool] section (e.g. mirror = "...").
  std::string gateway_spool_toml_;
  // Where gateways forward to; 0: the cloud's listener.
  int gateway_upstream_port_ = 0;
  // The [storage] section of cloud.toml (a test may choose PostgreSQL).
  std::string storage_toml_ = "[storage]\nsqlite_path = \"cloud.db\"\n";
  std::string db_name_ = "cloud.db";  // the SQLite file the checks read, relative to dir()
  int cloud_port_ = 0;
  std::vector<std::string> extra_fleet_args_;   // appended to `armored fleet`
  int gateway_udp_port_ = 0;
  int cloud_starts_ = 0;
  int gateway_starts_ = 0;
};

}  // namespace armored::pipeline_test
