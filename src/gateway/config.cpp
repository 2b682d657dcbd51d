#include "gateway/config.h"

#include <algorithm>
#include <charconv>

#include "common/file_io.h"
#include "config/tls_section.h"
#include "config/http_listener.h"
#include "config/toml_reader.h"
#include "pki/pki.h"

namespace armored::gateway {
namespace fs = std::filesystem;


Expected<GatewayConfig> parse_gateway_config(std::string_view text, const fs::path& path) {
  auto doc = config::TomlDocument::parse(text, path.string());
  if (!doc) return unexpected(doc.error());
  ARMORED_TRY(doc->reject_unknown_sections({"udp", "cloud", "spool", "forward", "backoff", "status", "metrics"}));
  const fs::path base = path.has_parent_path() ? path.parent_path() : fs::path(".");
  GatewayConfig c;
  auto root = doc->section("");
  ARMORED_TRY(root.get("id", c.id));
  ARMORED_TRY(root.reject_unknown_keys());
  if (auto v = pki::validate_id(c.id); !v) return fail(path.string() + ": id", v.error());

  auto udp = doc->section("udp");
  std::int64_t uport = c.udp_port;
  ARMORED_TRY(udp.get_optional_ip_address("address", c.udp_address));
  ARMORED_TRY(udp.get_optional("port", uport, 0, 65535));
  ARMORED_TRY(udp.reject_unknown_keys());
  c.udp_port = static_cast<std::uint16_t>(uport);

  auto cl = doc->section("cloud");
  std::string tickets = c.ticket_dir.string();
  std::int64_t port = c.cloud_port, keep = c.keep_alive_s, max_age = c.ticket_max_age.count();
  ARMORED_TRY(cl.get("host", c.cloud_host));
  ARMORED_TRY(cl.get_optional("port", port, 1, 65535));
  ARMORED_TRY(config::read_tls_files(cl, base, /*crl_required=*/false, c.tls));
  ARMORED_TRY(config::read_spki_pins(cl, c.tls));
  ARMORED_TRY(cl.get_optional("ticket_dir", tickets));
  ARMORED_TRY(cl.get_optional("ticket_max_age_s", max_age, 0, 7 * 24 * 3600));
  ARMORED_TRY(cl.get_optional("keep_alive_s", keep, 0, 3600));
  std::vector<std::string> alternates;
  ARMORED_TRY(cl.get_optional("alternates", alternates));
  ARMORED_TRY(cl.reject_unknown_keys());
  for (const auto& a : alternates) {
    // "host:port", "[v6]:port".
    const auto colon = a.rfind(':');
    std::string host = colon == std::string::npos ? "" : a.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned p = 0;
    const std::string digits = colon == std::string::npos ? "" : a.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (host.empty() || digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || p == 0 ||
        p > 65535) {
      return fail(path.string() + ": cloud.alternates entry '" + a + "' is not host:port");
    }
    if (p == 1883) {
      return fail(path.string() + ": cloud.alternates entry '" + a + "' is plaintext MQTT's port; the gateway forwards only over TLS");
    }
    c.cloud_alternates.emplace_back(std::move(host), static_cast<std::uint16_t>(p));
  }
  if (port == 1883) {
    return fail(path.string() + ": cloud.port 1883 is plaintext MQTT; the gateway forwards only over TLS (8883)");
  }
  c.cloud_port = static_cast<std::uint16_t>(port);
  c.keep_alive_s = static_cast<std::uint16_t>(keep);
  c.ticket_max_age = std::chrono::seconds(max_age);
  c.ticket_dir = config::resolve_path(base, tickets);
  c.tls.role = tls::Role::kClient;

  auto sp = doc->section("spool");
  std::string sdir = c.spool_dir.string();
  std::int64_t smax = static_cast<std::int64_t>(c.spool_max_bytes);
  ARMORED_TRY(sp.get_optional("dir", sdir));
  ARMORED_TRY(sp.get_optional("max_bytes", smax, 1 << 20, std::int64_t{1} << 40));
  std::string on_damage = c.spool_on_damage == spool::OnCorruption::kFail ? "refuse" : "quarantine";
  ARMORED_TRY(sp.get_optional_choice("on_damage", on_damage, {"quarantine", "refuse"}));
  std::string mirror;
  ARMORED_TRY(sp.get_optional("mirror", mirror));
  ARMORED_TRY(sp.reject_unknown_keys());
  c.spool_dir = config::resolve_path(base, sdir);
  if (!mirror.empty()) {
    c.spool_mirror = config::resolve_path(base, mirror);
    // Inside the spool the mirror shares the spool's device and fate, and
    // its segment files would be the spool's own names one level down.
    std::error_code ec1, ec2;
    const fs::path d = fs::weakly_canonical(c.spool_dir, ec1);
    const fs::path m = fs::weakly_canonical(*c.spool_mirror, ec2);
    if (ec1 || ec2) return fail(path.string() + ": spool.mirror \"" + mirror + "\": cannot resolve the path");
    if (std::mismatch(d.begin(), d.end(), m.begin(), m.end()).first == d.end()) {
      return fail(path.string() + ": spool.mirror \"" + mirror + "\" is the spool directory " + c.spool_dir.string() +
                  " or inside it; the mirror must be a directory of its own, ideally on another device");
    }
  }
  c.spool_max_bytes = static_cast<std::size_t>(smax);
  c.spool_on_damage = on_damage == "refuse" ? spool::OnCorruption::kFail : spool::OnCorruption::kQuarantine;

  auto fw = doc->section("forward");
  std::int64_t bm = static_cast<std::int64_t>(c.batch_max_messages), inflight = static_cast<std::int64_t>(c.max_inflight),
               early = static_cast<std::int64_t>(c.early_data_max_bytes);
  ARMORED_TRY(fw.get_optional("batch_max_messages", bm, 1, 255));
  ARMORED_TRY(fw.get_optional("max_inflight", inflight, 1, 1024));
  ARMORED_TRY(fw.get_optional("early_data_max_bytes", early, 0, 1 << 20));
  std::string confirm = "puback", signer;
  std::int64_t receipt_timeout = c.receipt_timeout.count();
  ARMORED_TRY(fw.get_optional_choice("confirm", confirm, {"puback", "receipt"}));
  ARMORED_TRY(fw.get_optional("receipt_signer", signer));
  ARMORED_TRY(fw.get_optional("receipt_timeout_s", receipt_timeout, 1, 3600));
  ARMORED_TRY(fw.reject_unknown_keys());
  c.confirm = confirm == "receipt" ? GatewayConfig::Confirm::kReceipt : GatewayConfig::Confirm::kPuback;
  if (c.confirm == GatewayConfig::Confirm::kReceipt && signer.empty()) {
    return fail(path.string() + ": forward.confirm = \"receipt\" needs forward.receipt_signer: the cloud's "
                "certificate, which every receipt must verify under (a broker must not be able to forge one)");
  }
  if (!signer.empty()) c.receipt_signer = config::resolve_path(base, signer);
  c.receipt_timeout = std::chrono::seconds(receipt_timeout);
  c.batch_max_messages = static_cast<std::size_t>(bm);
  c.max_inflight = static_cast<std::size_t>(inflight);
  c.early_data_max_bytes = static_cast<std::size_t>(early);

  auto bo = doc->section("backoff");
  std::int64_t bi = c.backoff_initial.count(), bmx = c.backoff_max.count();
  ARMORED_TRY(bo.get_optional("initial_ms", bi, 1, 600000));
  ARMORED_TRY(bo.get_optional("max_ms", bmx, 1, 3600000));
  ARMORED_TRY(bo.reject_unknown_keys());
  c.backoff_initial = std::chrono::milliseconds(bi);
  c.backoff_max = std::chrono::milliseconds(bmx);

  ARMORED_TRY(config::read_status_section(*doc, c.status_interval));
  ARMORED_TRY(config::read_http_listener(*doc, "metrics", c.metrics));
  return c;
}

Expected<GatewayConfig> load_gateway_config(const fs::path& path) {
  auto text = read_text_file(path, 1u << 20);
  if (!text) return unexpected(text.error());
  return parse_gateway_config(*text, path);
}

}  // namespace armored::gateway
