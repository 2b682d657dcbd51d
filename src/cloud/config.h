#pragma once
// `armored cloud` configuration (TOML). config/cloud.toml documents every
// option with its default. There is no plaintext listener and no way to
// switch certificate verification off: the config has nothing to say it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "cloud/admin_config.h"
#include "cloud/audit_limiter.h"
#include "cloud/broker_config.h"
#include "cloud/cluster_config.h"
#include "common/file_mode.h"
#include "common/result.h"
#include "config/http_listener.h"
#include "tls/config.h"

namespace armored::cloud {

struct CloudConfig {
  // [listen]
  std::string address = "127.0.0.1";
  std::uint16_t port = 8883;
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_address = 64;
  std::size_t max_connections_per_identity = 4;
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds handshake_timeout_min{1000};
  // [tls]; tls.ticket_key_file defaults to armored-cloud.tickets next to the config
  tls::TlsConfig tls;
  // How often the CRL file is checked for a change (0: only on SIGHUP).
  std::chrono::seconds crl_check_interval{5};
  // [e3]
  std::filesystem::path e3_dir;   // registry.json, cloud-e3.key
  std::filesystem::path pki_dir;  // device/<id>.crt: identity keys of enrolled devices
  std::filesystem::path state_file = "armored-cloud.e3state";
  std::size_t replay_window = 64;
  std::chrono::seconds epoch_grace{3600};
  // [storage]
  std::string backend = "sqlite";
  std::filesystem::path sqlite_path = "armored.db";
  std::string postgresql_conninfo = "dbname=armored";
  std::string postgresql_schema = "armored";
  std::size_t max_batch_rows = 65536;  // rows per durable commit (group commit)
  // SQLite: PRAGMA quick_check at start when the file is at most this big
  // (0: never); larger files are checked with `armored cloud --check`.
  std::uint64_t check_at_start_max_bytes = std::uint64_t{512} << 20;
  // An existing database, state or ticket-key file that group or others can
  // access: refuse to start (default) or warn.
  ExposedFilePolicy file_permissions = ExposedFilePolicy::kRefuse;
  // [mqtt]
  std::size_t max_packet_bytes = 256 * 1024;
  // client_id_policy: "record" (false) writes the client id into the
  // connected audit row; "match" (true) also refuses a CONNECT whose client
  // id is not the certificate's id (CONNACK 2, identifier rejected).
  bool client_id_must_match = false;
  std::uint16_t max_keep_alive_s = 300;
  std::uint16_t mqtt_connect_timeout_s = 10;
  // [audit]
  AuditLimits audit;
  std::uint64_t audit_min_free_disk_mb = 1024;
  // [status]
  std::chrono::seconds status_interval{5};
  config::HttpListener metrics;  // [metrics]: off unless a port is set
  config::HttpListener dashboard;  // [dashboard]: off unless a port is set
  std::filesystem::path dashboard_token_file;  // default: dashboard.token next to the database
  // [broker]: the optional second source (broker_config.h)
  bool broker_enabled = false;
  BrokerConfig broker;
  // [admin], [commands]
  AdminConfig admin;
  // [cluster]: one process (default), or a front or worker of a scaled cloud
  ClusterConfig cluster;
};

// Loads and checks a config file. Relative paths are taken relative to the
// file's directory. Errors name the file, line and key.
Expected<CloudConfig> load_cloud_config(const std::filesystem::path& path);
Expected<CloudConfig> parse_cloud_config(std::string_view text, const std::filesystem::path& path);

}  // namespace armored::cloud
