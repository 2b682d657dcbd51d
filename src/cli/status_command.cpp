// `armored status`: the health of a running cloud or gateway, read from its
// own /metrics page, so the terminal shows exactly what Prometheus and the
// alerts see (docs/operations.md, "armored status").

#include <charconv>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "config/http_listener.h"
#include "config/toml_reader.h"
#include "metrics/scrape.h"

namespace armored::cli {

namespace {

using metrics::Sample;
using Samples = std::vector<Sample>;

struct Target {
  std::string role;  // "cloud" or "gateway"
  std::string host;
  std::uint16_t port = 0;
};

// The [metrics] section of a cloud or gateway config; a gateway's config is
// the one with a [udp] or [spool] table.
Target target_from_config(const std::string& path) {
  auto doc = config::TomlDocument::load(path);
  if (!doc) throw Failure(doc.error());
  Target t;
  const auto root = doc->section("");
  t.role = root.has("udp") || root.has("spool") ? "gateway" : "cloud";
  config::HttpListener l;
  if (auto r = config::read_http_listener(*doc, "metrics", l); !r) throw Failure(r.error());
  if (!l.enabled) {
    throw UsageError(path + " has no [metrics] port: armored status reads the " + t.role +
                     "'s metrics endpoint; set [metrics] port (e.g. 9464) and restart the " + t.role);
  }
  if (l.port == 0) {
    throw UsageError(path + ": [metrics] port = 0 picks a port at each start; give --metrics HOST:PORT from the " +
                     t.role + "'s start-up line");
  }
  t.host = l.address == "0.0.0.0" ? "127.0.0.1" : l.address == "::" ? "::1" : l.address;
  t.port = l.port;
  return t;
}

Target target_from_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("--metrics wants HOST:PORT, e.g. 127.0.0.1:9464");
  Target t;
  t.host = text.substr(0, colon);
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  // Every character a digit ("94x4" is not port 94), 1-65535.
  const std::string port = text.substr(colon + 1);
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535) {
    throw UsageError("--metrics: '" + port + "' is not a port (1-65535)");
  }
  t.port = static_cast<std::uint16_t>(p);
  return t;
}

double v(const Samples& s, std::string_view name, const std::map<std::string, std::string>& labels = {}) {
  return metrics::value_of(s, name, labels);
}
std::uint64_t n(double x) { return x > 0 ? static_cast<std::uint64_t>(std::llround(x)) : 0; }

// "12,345"
std::string grouped(std::uint64_t x) {
  std::string digits = std::to_string(x), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string duration_text(double seconds) {
  const bool negative = seconds < 0;
  double s = std::fabs(seconds);
  std::string t = s >= 2 * 86400 ? fmt::format("{:.0f} days", s / 86400)
                  : s >= 2 * 3600 ? fmt::format("{:.0f} h", s / 3600)
                  : s >= 120      ? fmt::format("{:.0f} min", s / 60)
                                  : fmt::format("{:.0f} s", s);
  return negative ? "-" + t : t;
}

// "forged 2, replayed 1" over the non-zero samples of `name` by `label`.
std::string breakdown(const Samples& s, std::string_view name, const std::string& label) {
  std::string out;
  for (const auto& x : s) {
    if (x.name != name || x.value <= 0) continue;
    auto it = x.labels.find(label);
    if (it == x.labels.end()) continue;
    if (!out.empty()) out += ", ";
    out += it->second + " " + grouped(n(x.value));
  }
  return out;
}

// Per-second rates of a counter between two scrapes (nullopt on the first).
std::optional<double> rate(const Samples& now, const Samples* before, std::string_view name, double seconds) {
  if (!before || seconds <= 0) return std::nullopt;
  return std::max(0.0, (metrics::sum_of(now, name) - metrics::sum_of(*before, name)) / seconds);
}

std::string process_line(const Samples& s) {
  const double start = v(s, "process_start_time_seconds");
  const double now_s = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return fmt::format("up {}, {} MiB resident, {:.1f} s CPU", start > 0 ? duration_text(now_s - start) : "?",
                     n(v(s, "process_resident_memory_bytes") / (1 << 20)), v(s, "process_cpu_seconds_total"));
}

std::vector<std::string> cloud_lines(const Samples& s, const Samples* before, double secs) {
  std::vector<std::string> out;
  const bool failing = v(s, "armored_cloud_storage_failing") > 0;
  const auto stored_rate = rate(s, before, "armored_cloud_readings_stored_total", secs);
  out.push_back(fmt::format("readings   {} stored{}, {} duplicates dropped, {} rejected{}",
                            grouped(n(v(s, "armored_cloud_readings_stored_total"))),
                            stored_rate ? fmt::format(" ({:.0f}/s)", *stored_rate) : "",
                            grouped(n(v(s, "armored_cloud_readings_duplicate_total"))),
                            grouped(n(metrics::sum_of(s, "armored_cloud_rejected_total"))),
                            [&] {
                              auto b = breakdown(s, "armored_cloud_rejected_total", "reason");
                              return b.empty() ? std::string() : " (" + b + ")";
                            }()));
  out.push_back(fmt::format("storage    {}, {} commits, {} failed attempts",
                            failing ? "FAILING: nothing is acknowledged until it works again" : "ok",
                            grouped(n(v(s, "armored_cloud_commits_total"))),
                            grouped(n(v(s, "armored_cloud_storage_failures_total")))));
  const double gaps = v(s, "armored_cloud_sequence_gap_readings");
  out.push_back(metrics::has(s, "armored_cloud_sequence_gap_readings")
                    ? fmt::format("gaps       {} readings missing in {} device epochs", grouped(n(gaps)),
                                  grouped(n(v(s, "armored_cloud_sequence_gap_series"))))
                    : "gaps       not counted yet");
  out.push_back(fmt::format("clients    {} connected ({}), {} handshaking",
                            n(v(s, "armored_cloud_connections", {{"state", "established"}})),
                            breakdown(s, "armored_cloud_connections_by_role", "role"),
                            n(v(s, "armored_cloud_connections", {{"state", "handshaking"}}))));
  out.push_back(fmt::format("handshakes {} full, {} resumed, {} 0-RTT, {} failed{}",
                            grouped(n(v(s, "armored_cloud_handshakes_total", {{"kind", "full"}}))),
                            grouped(n(v(s, "armored_cloud_handshakes_total", {{"kind", "resumed"}}))),
                            grouped(n(v(s, "armored_cloud_handshakes_total", {{"kind", "zero_rtt"}}))),
                            grouped(n(v(s, "armored_cloud_handshake_failures_total"))), [&] {
                              auto b = breakdown(s, "armored_cloud_handshake_failures_by_reason_total", "reason");
                              return b.empty() ? std::string() : " (" + b + ")";
                            }()));
  const std::string cmds = breakdown(s, "armored_cloud_commands_total", "outcome");
  out.push_back("commands   " + (cmds.empty() ? std::string("none") : cmds));
  std::string certs = "certificate expires in " + duration_text(v(s, "armored_cloud_certificate_expiry_seconds"));
  if (metrics::has(s, "armored_cloud_crl_age_seconds")) {
    certs += ", CRL issued " + duration_text(v(s, "armored_cloud_crl_age_seconds")) + " ago";
  }
  out.push_back("security   " + certs + fmt::format(", {} ACL denials", grouped(n(v(s, "armored_cloud_acl_denied_total")))));
  out.push_back("process    " + process_line(s));
  return out;
}

std::vector<std::string> gateway_lines(const Samples& s, const Samples* before, double secs) {
  std::vector<std::string> out;
  const auto acked_rate = rate(s, before, "armored_gateway_acknowledged_total", secs);
  out.push_back(fmt::format("uplink     {}, {} connects, {} failed", v(s, "armored_gateway_connected") > 0 ? "connected" : "DISCONNECTED",
                            grouped(n(metrics::sum_of(s, "armored_gateway_connects_total"))),
                            grouped(n(v(s, "armored_gateway_connect_failures_total")))));
  out.push_back(fmt::format("messages   {} received, {} spooled, {} acknowledged by the cloud{}, {} in flight",
                            grouped(n(v(s, "armored_gateway_datagrams_total"))),
                            grouped(n(v(s, "armored_gateway_spooled_total"))),
                            grouped(n(v(s, "armored_gateway_acknowledged_total"))),
                            acked_rate ? fmt::format(" ({:.0f}/s)", *acked_rate) : "",
                            grouped(n(v(s, "armored_gateway_forward_inflight_messages")))));
  out.push_back(fmt::format("spool      {} records waiting ({} MiB), oldest {}{}",
                            grouped(n(v(s, "armored_gateway_spool_records"))),
                            n(v(s, "armored_gateway_spool_bytes") / (1 << 20)),
                            duration_text(v(s, "armored_gateway_spool_backlog_age_seconds")),
                            v(s, "armored_gateway_spool_failing") > 0 ? "; REFUSES WRITES (devices answered busy)" : ""));
  out.push_back(fmt::format("refused    {} malformed, {} spool full, {} duplicates",
                            grouped(n(v(s, "armored_gateway_malformed_total"))),
                            grouped(n(v(s, "armored_gateway_refused_full_total"))),
                            grouped(n(v(s, "armored_gateway_duplicates_total")))));
  out.push_back("process    " + process_line(s));
  return out;
}

// Every sample as {"name{labels}": value}, for scripts.
nlohmann::json as_json(const Target& t, const Samples& s) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& x : s) {
    std::string key = x.name;
    if (!x.labels.empty()) {
      key += '{';
      bool first = true;
      for (const auto& [k, val] : x.labels) {
        if (!first) key += ',';
        first = false;
        key += k + "=\"" + val + "\"";
      }
      key += '}';
    }
    m[key] = x.value;
  }
  return {{"role", t.role}, {"endpoint", fmt::format("{}:{}", t.host, t.port)}, {"metrics", std::move(m)}};
}

}  // namespace

void add_status(CLI::App& app, Context& ctx) {
  auto config_path = std::make_shared<std::string>();
  auto address = std::make_shared<std::string>();
  auto watch = std::make_shared<double>(0);
  auto count = std::make_shared<std::int64_t>(0);
  auto* cmd = app.add_subcommand("status", "Show a running cloud's or gateway's health (from its metrics)");
  cmd->footer(
      "Reads the /metrics page of a running armored cloud or gateway (its [metrics]\n"
      "section must set a port) and prints readings stored and rejected, sequence\n"
      "gaps, storage, connections, handshakes, commands, certificate and CRL age\n"
      "(cloud) or uplink, spool backlog and its age (gateway). The same numbers\n"
      "Prometheus scrapes; see docs/operations.md.\n\n"
      "Exit codes: 0 answered, 1 not reachable, 2 bad usage.\n\n"
      "Examples:\n"
      "  armored status --config cloud.toml\n"
      "  armored status --config gateway.toml --watch 5      # every 5 s, with rates\n"
      "  armored status --metrics 127.0.0.1:9464 --json");
  auto* cfg = cmd->add_option("--config", *config_path, "The cloud's or gateway's configuration file (TOML)");
  auto* addr = cmd->add_option("--metrics", *address, "Or the metrics endpoint itself, HOST:PORT");
  cfg->excludes(addr);
  cmd->add_option("--watch", *watch, "Print again every this many seconds, with per-second rates")
      ->check(CLI::Range(0.5, 3600.0));
  cmd->add_option("--count", *count, "With --watch: stop after this many reports (default: until interrupted)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  cmd->callback([=, &ctx] {
    if (config_path->empty() && address->empty()) throw UsageError("give --config FILE or --metrics HOST:PORT");
    Target t = !config_path->empty() ? target_from_config(*config_path) : target_from_address(*address);
    std::optional<Samples> before;
    auto before_at = std::chrono::steady_clock::now();
    for (std::int64_t i = 0;; ++i) {
      auto s = metrics::scrape(t.host, t.port);
      if (!s) {
        throw OperationFailed("no metrics from the " + (t.role.empty() ? std::string("server") : t.role) + ": " +
                              s.error().message);
      }
      if (!address->empty()) {
        t.role = metrics::has(*s, "armored_gateway_datagrams_total") ? "gateway" : "cloud";
      }
      const auto at = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(at - before_at).count();
      if (ctx.json) {
        std::cout << as_json(t, *s).dump() << std::endl;
      } else {
        if (i > 0) std::cout << "\n";
        std::cout << "armored " << t.role << " at " << t.host << ":" << t.port << "\n";
        const auto lines = t.role == "gateway" ? gateway_lines(*s, before ? &*before : nullptr, secs)
                                               : cloud_lines(*s, before ? &*before : nullptr, secs);
        for (const auto& l : lines) std::cout << "  " << l << "\n";
        std::cout.flush();
      }
      if (*watch <= 0 || (*count > 0 && i + 1 >= *count)) break;
      before = std::move(*s);
      before_at = at;
      std::this_thread::sleep_for(std::chrono::duration<double>(*watch));
    }
    ctx.exit_code = 0;
  });
}

}  // namespace armored::cli
