#include "cloud/admin_config.h"

#include "config/toml_reader.h"

namespace armored::cloud {

Status parse_admin_config(const config::TomlDocument& doc, const std::filesystem::path& base,
                          const std::filesystem::path& default_dir, AdminConfig& out_) {
  auto a = doc.section("admin");
  std::string socket;
  std::int64_t max_req = static_cast<std::int64_t>(out_.limits.max_request_bytes);
  std::int64_t per_conn = static_cast<std::int64_t>(out_.limits.max_requests_per_connection);
  std::int64_t idle = out_.idle_timeout.count() / 1000;
  ARMORED_TRY(a.get_optional("enabled", out_.enabled));
  ARMORED_TRY(a.get_optional("socket", socket));
  ARMORED_TRY(a.get_optional("max_request_bytes", max_req, 256, 1 << 20));
  ARMORED_TRY(a.get_optional("max_requests_per_connection", per_conn, 1, 100000));
  ARMORED_TRY(a.get_optional("idle_timeout_s", idle, 1, 3600));
  ARMORED_TRY(a.reject_unknown_keys());
  out_.socket = socket.empty() ? default_dir / "cloud.sock" : config::resolve_path(base, socket);
  out_.limits.max_request_bytes = static_cast<std::size_t>(max_req);
  out_.limits.max_requests_per_connection = static_cast<std::size_t>(per_conn);
  out_.idle_timeout = std::chrono::seconds(idle);

  auto c = doc.section("commands");
  std::string schema;
  std::int64_t ack = out_.ack_timeout.count();
  std::int64_t outstanding = static_cast<std::int64_t>(out_.max_outstanding);
  ARMORED_TRY(c.get_optional("schema", schema));
  ARMORED_TRY(c.get_optional("ack_timeout_s", ack, 1, 7 * 24 * 3600));
  ARMORED_TRY(c.get_optional("max_outstanding", outstanding, 1, 1'000'000));
  ARMORED_TRY(c.reject_unknown_keys());
  out_.schema = config::resolve_path(base, schema);
  out_.ack_timeout = std::chrono::seconds(ack);
  out_.max_outstanding = static_cast<std::size_t>(outstanding);
  return {};
}

}  // namespace armored::cloud
