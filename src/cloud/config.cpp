#include "cloud/config.h"

#include <algorithm>

#include "common/file_io.h"
#include "config/tls_section.h"
#include "config/http_listener.h"
#include "config/toml_reader.h"

namespace armored::cloud {
namespace fs = std::filesystem;


Expected<CloudConfig> parse_cloud_config(std::string_view text, const fs::path& path) {
  auto doc = config::TomlDocument::parse(text, path.string());
  if (!doc) return unexpected(doc.error());
  ARMORED_TRY(doc->reject_unknown_sections({"listen", "tls", "e3", "storage", "mqtt", "status", "broker", "admin",
                                            "commands", "audit", "metrics", "dashboard", "cluster"}));
  const fs::path base = path.has_parent_path() ? path.parent_path() : fs::path(".");
  CloudConfig c;

  auto listen = doc->section("listen");
  ARMORED_TRY(listen.get_optional_ip_address("address", c.address));
  std::int64_t port = c.port, maxc = static_cast<std::int64_t>(c.max_connections);
  ARMORED_TRY(listen.get_optional("port", port, 0, 65535));  // 0: any free port (tests)
  ARMORED_TRY(listen.get_optional("max_connections", maxc, 1, 1'000'000));
  std::int64_t per_addr = static_cast<std::int64_t>(c.max_connections_per_address),
               per_id = static_cast<std::int64_t>(c.max_connections_per_identity),
               hs = c.handshake_timeout.count() / 1000, hs_min = c.handshake_timeout_min.count();
  ARMORED_TRY(listen.get_optional("max_connections_per_address", per_addr, 1, 1'000'000));
  ARMORED_TRY(listen.get_optional("max_connections_per_identity", per_id, 1, 1000));
  ARMORED_TRY(listen.get_optional("handshake_timeout_s", hs, 1, 300));
  ARMORED_TRY(listen.get_optional("handshake_timeout_min_ms", hs_min, 100, 300'000));
  c.max_connections_per_address = static_cast<std::size_t>(per_addr);
  c.max_connections_per_identity = static_cast<std::size_t>(per_id);
  c.handshake_timeout = std::chrono::milliseconds(hs * 1000);
  c.handshake_timeout_min = std::chrono::milliseconds(std::min(hs_min, hs * 1000));
  ARMORED_TRY(listen.reject_unknown_keys());
  if (port == 1883) {
    return fail(path.string() + ": listen.port 1883 is the plaintext MQTT port; Armored listens "
                "only with TLS (use 8883)");
  }
  c.port = static_cast<std::uint16_t>(port);
  c.max_connections = static_cast<std::size_t>(maxc);

  auto t = doc->section("tls");
  if (!doc->section("tls").has("certificate")) {
    return fail(path.string() + ": [tls] certificate, key, ca and crl are required: Armored has no "
                "listener without TLS");
  }
  std::string resumption = "psk_dhe_ke";
  std::string tickets = "armored-cloud.tickets";  // "": ticket keys in memory only
  std::int64_t early = c.tls.max_early_data, lifetime = c.tls.ticket_lifetime.count(),
               rotation = c.tls.ticket_key_rotation.count(), crl_check = c.crl_check_interval.count();
  ARMORED_TRY(config::read_tls_files(t, base, /*crl_required=*/true, c.tls));
  ARMORED_TRY(t.get_optional("crl_check_interval_s", crl_check, 0, 3600));
  ARMORED_TRY(t.get_optional("early_data_max_bytes", early, 0, 1 << 20));
  ARMORED_TRY(t.get_optional("ticket_lifetime_s", lifetime, 60, 7 * 24 * 3600));
  ARMORED_TRY(t.get_optional("ticket_key_rotation_s", rotation, 60, 7 * 24 * 3600));
  ARMORED_TRY(t.get_optional_choice("resumption", resumption, {"psk_dhe_ke", "psk_ke"}));
  ARMORED_TRY(t.get_optional("ticket_key_file", tickets));
  ARMORED_TRY(t.reject_unknown_keys());
  c.tls.role = tls::Role::kServer;
  c.crl_check_interval = std::chrono::seconds(crl_check);
  c.tls.max_early_data = static_cast<std::uint32_t>(early);
  c.tls.ticket_lifetime = std::chrono::seconds(lifetime);
  c.tls.ticket_key_rotation = std::chrono::seconds(rotation);
  if (!tickets.empty()) c.tls.ticket_key_file = config::resolve_path(base, tickets);
  c.tls.resumption = resumption == "psk_ke" ? tls::ResumptionMode::kPskKe : tls::ResumptionMode::kPskDheKe;

  auto e3 = doc->section("e3");
  std::string e3dir, pkidir, state = c.state_file.string();
  std::int64_t window = static_cast<std::int64_t>(c.replay_window), grace = c.epoch_grace.count();
  ARMORED_TRY(e3.get("dir", e3dir));
  ARMORED_TRY(e3.get("pki_dir", pkidir));
  ARMORED_TRY(e3.get_optional("state_file", state));
  ARMORED_TRY(e3.get_optional("replay_window", window, 1, 1024));
  ARMORED_TRY(e3.get_optional("epoch_grace_s", grace, 0, 7 * 24 * 3600));
  ARMORED_TRY(e3.reject_unknown_keys());
  c.e3_dir = config::resolve_path(base, e3dir);
  c.pki_dir = config::resolve_path(base, pkidir);
  c.state_file = config::resolve_path(base, state);
  c.replay_window = static_cast<std::size_t>(window);
  c.epoch_grace = std::chrono::seconds(grace);

  auto st = doc->section("storage");
  std::string sqlite = c.sqlite_path.string();
  std::int64_t batch = static_cast<std::int64_t>(c.max_batch_rows);
  ARMORED_TRY(st.get_optional_choice("backend", c.backend, {"sqlite", "postgresql"}));
  ARMORED_TRY(st.get_optional("sqlite_path", sqlite));
  ARMORED_TRY(st.get_optional("postgresql_conninfo", c.postgresql_conninfo));
  ARMORED_TRY(st.get_optional("postgresql_schema", c.postgresql_schema));
  ARMORED_TRY(st.get_optional("max_batch_rows", batch, 1, 1'000'000));
  std::int64_t check_max = static_cast<std::int64_t>(c.check_at_start_max_bytes);
  ARMORED_TRY(st.get_optional("check_at_start_max_bytes", check_max, 0, std::int64_t{1} << 50));
  c.check_at_start_max_bytes = static_cast<std::uint64_t>(check_max);
  std::string perms = "refuse";
  ARMORED_TRY(st.get_optional_choice("file_permissions", perms, {"refuse", "warn"}));
  c.file_permissions = perms == "warn" ? ExposedFilePolicy::kWarn : ExposedFilePolicy::kRefuse;
  ARMORED_TRY(st.reject_unknown_keys());
  c.sqlite_path = config::resolve_path(base, sqlite);
  c.max_batch_rows = static_cast<std::size_t>(batch);

  auto mq = doc->section("mqtt");
  std::int64_t maxpkt = static_cast<std::int64_t>(c.max_packet_bytes);
  ARMORED_TRY(mq.get_optional("max_packet_bytes", maxpkt, 1024, 16 << 20));
  std::int64_t max_ka = c.max_keep_alive_s, connect_to = c.mqtt_connect_timeout_s;
  ARMORED_TRY(mq.get_optional("max_keep_alive_s", max_ka, 1, 65535));
  ARMORED_TRY(mq.get_optional("connect_timeout_s", connect_to, 1, 300));
  c.max_keep_alive_s = static_cast<std::uint16_t>(max_ka);
  c.mqtt_connect_timeout_s = static_cast<std::uint16_t>(connect_to);
  std::string client_id_policy = "record";
  ARMORED_TRY(mq.get_optional_choice("client_id_policy", client_id_policy, {"record", "match"}));
  c.client_id_must_match = client_id_policy == "match";
  ARMORED_TRY(mq.reject_unknown_keys());
  c.max_packet_bytes = static_cast<std::size_t>(maxpkt);

  ARMORED_TRY(config::read_status_section(*doc, c.status_interval));
  ARMORED_TRY(config::read_http_listener(*doc, "metrics", c.metrics));
  std::string token_file;
  ARMORED_TRY(config::read_http_listener(*doc, "dashboard", c.dashboard, [&](config::TomlSection& s) {
    return s.get_optional("token_file", token_file);
  }));

  auto au = doc->section("audit");
  std::int64_t ai = c.audit.interval.count() / 1000, per_key = static_cast<std::int64_t>(c.audit.rows_per_key),
               keys = static_cast<std::int64_t>(c.audit.max_keys),
               rows = static_cast<std::int64_t>(c.audit.max_rows_per_interval),
               reserve = static_cast<std::int64_t>(c.audit_min_free_disk_mb);
  ARMORED_TRY(au.get_optional("interval_s", ai, 1, 3600));
  ARMORED_TRY(au.get_optional("rows_per_source", per_key, 1, 1000));
  ARMORED_TRY(au.get_optional("max_sources", keys, 2, 100'000));
  ARMORED_TRY(au.get_optional("max_rows_per_interval", rows, 2, 1'000'000));
  ARMORED_TRY(au.get_optional("min_free_disk_mb", reserve, 0, std::int64_t{1} << 30));
  ARMORED_TRY(au.reject_unknown_keys());
  c.audit.interval = std::chrono::milliseconds(ai * 1000);
  c.audit.rows_per_key = static_cast<std::size_t>(per_key);
  c.audit.max_keys = static_cast<std::size_t>(keys);
  c.audit.max_rows_per_interval = static_cast<std::size_t>(rows);
  c.audit_min_free_disk_mb = static_cast<std::uint64_t>(reserve);

  ARMORED_TRY(parse_broker_section(*doc, base, c.broker, c.broker_enabled));
  const fs::path db_dir = c.backend == "sqlite" && c.sqlite_path.has_parent_path() ? c.sqlite_path.parent_path() : base;
  ARMORED_TRY(parse_admin_config(*doc, base, db_dir, c.admin));
  c.dashboard_token_file = token_file.empty() ? db_dir / "dashboard.token" : config::resolve_path(base, token_file);

  ARMORED_TRY(parse_cluster_section(*doc, base, c.cluster));
  if (c.cluster.role != CloudRole::kSingle) {
    const std::string role = to_string(c.cluster.role);
    // Fronts and workers share one database: SQLite is one process's file.
    if (c.backend != "postgresql") {
      return fail(path.string() + ": [cluster] role = \"" + role + "\" needs [storage] backend = \"postgresql\"" +
                  " (every front and worker shares the database)");
    }
    if (c.broker_enabled) {
      return fail(path.string() + ": [broker] is not available with [cluster] role = \"" + role +
                  "\"; run the broker source in a single-process cloud");
    }
  }

  return c;
}

Expected<CloudConfig> load_cloud_config(const fs::path& path) {
  auto text = read_text_file(path, 1u << 20);
  if (!text) return unexpected(text.error());
  return parse_cloud_config(*text, path);
}

}  // namespace armored::cloud
