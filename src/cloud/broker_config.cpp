#include "cloud/broker_config.h"

#include <charconv>

#include "config/tls_section.h"
#include "config/toml_reader.h"

namespace armored::cloud {
namespace fs = std::filesystem;

Expected<BrokerUrl> parse_broker_url(std::string_view url) {
  const std::string quoted = "broker url '" + std::string(url) + "'";
  constexpr std::string_view kScheme = "mqtts://";
  if (!url.starts_with(kScheme)) {
    if (url.starts_with("mqtt://") || url.starts_with("tcp://") || url.starts_with("ws://")) {
      return fail(quoted + " is plaintext MQTT: the broker source connects only over TLS 1.3 "
                  "with a client certificate (use mqtts://host:8883)");
    }
    return fail(quoted + " must look like mqtts://host:8883");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return fail(quoted + ": only mqtts://host[:port] is accepted (no path, query or user)");
  }
  BrokerUrl out;
  std::string_view port;
  if (rest.starts_with("[")) {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail(quoted + ": unterminated [IPv6 address]");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(quoted + ": expected :port after the IPv6 address");
      port = rest.substr(1);
      if (port.empty()) return fail(quoted + ": empty port");
    }
  } else {
    auto colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return fail(quoted + ": empty port");
    }
  }
  if (out.host.empty()) return fail(quoted + ": no host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fail(quoted + ": port must be 1..65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  if (out.port == 1883) {
    return fail(quoted + ": 1883 is the plaintext MQTT port; the broker source connects only over "
                "TLS (usually 8883)");
  }
  return out;
}

Status set_broker_url(BrokerConfig& config, std::string url) {
  auto parsed = parse_broker_url(url);
  if (!parsed) return unexpected(parsed.error());
  config.url = std::move(url);
  config.endpoint = *parsed;
  return {};
}

Status parse_broker_section(const config::TomlDocument& doc, const fs::path& base, BrokerConfig& out_,
                            bool& enabled_) {
  auto b = doc.section("broker");
  const std::string file = doc.source();
  enabled_ = b.has("url") || b.has("ca") || b.has("certificate") || b.has("key");
  std::string url, ca, cert, key, crl, chain, receipt_key, tickets = out_.ticket_dir.string();
  std::int64_t receipt_ms = out_.receipt_interval.count();
  std::int64_t keep = out_.keep_alive_s, max_age = out_.ticket_max_age.count(),
               unacked = static_cast<std::int64_t>(out_.max_unacknowledged),
               bi = out_.backoff_initial.count(), bmax = out_.backoff_max.count();
  ARMORED_TRY(b.get_optional("url", url));
  ARMORED_TRY(b.get_optional("ca", ca));
  ARMORED_TRY(b.get_optional("certificate", cert));
  ARMORED_TRY(b.get_optional("key", key));
  ARMORED_TRY(b.get_optional("intermediates", chain));
  ARMORED_TRY(b.get_optional("crl", crl));
  ARMORED_TRY(b.get_optional("server_name", out_.server_name));
  ARMORED_TRY(b.get_optional("client_id", out_.client_id));
  ARMORED_TRY(b.get_optional("keep_alive_s", keep, 0, 3600));
  ARMORED_TRY(b.get_optional("ticket_dir", tickets));
  ARMORED_TRY(b.get_optional("ticket_max_age_s", max_age, 0, 7 * 24 * 3600));
  ARMORED_TRY(b.get_optional("max_unacknowledged", unacked, 1, 65535));
  ARMORED_TRY(b.get_optional("backoff_initial_ms", bi, 1, 600000));
  ARMORED_TRY(b.get_optional("backoff_max_ms", bmax, 1, 3600000));
  ARMORED_TRY(b.get_optional("receipts", out_.receipts));
  ARMORED_TRY(b.get_optional("receipt_key", receipt_key));
  ARMORED_TRY(b.get_optional("receipt_interval_ms", receipt_ms, 10, 10000));
  ARMORED_TRY(config::read_spki_pins(b, out_.tls));
  ARMORED_TRY(b.reject_unknown_keys());
  if (!enabled_) return {};
  if (ca.empty() || cert.empty() || key.empty()) {
    return fail(file + ": [broker] needs ca, certificate and key: the cloud connects to a broker only "
                "with mutual TLS");
  }
  if (!url.empty()) ARMORED_TRY(set_broker_url(out_, url));
  if (out_.client_id.empty() || out_.client_id.size() > 128) {
    return fail(file + ": broker.client_id must be 1..128 characters (a stable id keeps the session)");
  }
  out_.keep_alive_s = static_cast<std::uint16_t>(keep);
  out_.ticket_max_age = std::chrono::seconds(max_age);
  out_.ticket_dir = config::resolve_path(base, tickets);
  out_.max_unacknowledged = static_cast<std::size_t>(unacked);
  out_.backoff_initial = std::chrono::milliseconds(bi);
  out_.backoff_max = std::chrono::milliseconds(bmax);
  out_.receipt_interval = std::chrono::milliseconds(receipt_ms);
  if (!receipt_key.empty()) out_.receipt_key_file = config::resolve_path(base, receipt_key);
  out_.tls.role = tls::Role::kClient;
  out_.tls.ca_file = config::resolve_path(base, ca);
  out_.tls.cert_chain = config::resolve_path(base, cert);
  out_.tls.key_file = config::resolve_path(base, key);
  out_.tls.intermediates = config::resolve_path(base, chain);
  out_.tls.crl_file = config::resolve_path(base, crl);
  out_.tls.min_version = tls::MinVersion::kTls13;
  return {};
}

}  // namespace armored::cloud
