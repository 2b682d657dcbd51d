#include "cloud/internal/dashboard_source.h"

#include <cmath>

#include "common/hex.h"
#include "metrics/metrics.h"
#include "pki/pki.h"

namespace armored::cloud {

namespace {

nlohmann::json reason_counts(const std::vector<std::pair<std::string, std::uint64_t>>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [reason, count] : v) out.push_back({{"reason", reason}, {"count", count}});
  return out;
}

nlohmann::json certificate_json(const pki::PkiResult<pki::CertificateSummary>& c) {
  if (!c) return {{"subject", "unreadable: " + c.error().message}, {"not_after_ms", 0}};
  return {{"subject", c->subject}, {"not_after_ms", unix_ms(c->not_after)}};
}

}  // namespace

CertificateFacts read_certificate_facts(const CloudConfig& config) {
  CertificateFacts f{pki::inspect_certificate(config.tls.cert_chain), pki::inspect_certificate(config.tls.ca_file),
                     std::nullopt};
  if (!config.tls.crl_file.empty()) f.crl = pki::inspect_crl(config.tls.crl_file);
  return f;
}

nlohmann::json status_json(const CloudStatus& s) {
  return {
      {"connections", s.connections},
      {"connections_handshaking", s.connections_handshaking},
      {"connections_by_role", [&] {
         nlohmann::json r = nlohmann::json::object();
         for (const auto& [role, n] : s.connections_by_role) r[role] = n;
         return r;
       }()},
      {"messages", s.messages},
      {"readings_stored", s.readings_stored},
      {"duplicates", s.duplicates},
      {"rejected", s.rejected},
      {"announcements", s.announcements},
      {"late_readings", s.late_readings},
      {"commits", s.commits},
      {"storage_failures", s.storage_failures},
      {"storage_failing", s.storage_failing},
      {"handshakes", {{"full", s.handshakes_full},
                      {"resumed", s.handshakes_resumed - s.handshakes_zero_rtt},
                      {"zero_rtt", s.handshakes_zero_rtt},
                      {"failed", s.handshakes_failed},
                      {"failures", reason_counts(s.handshake_failures_by_reason)}}},
      {"rejections", reason_counts(s.rejected_by_reason)},
      {"commands", {{"sent", s.commands_sent},
                    {"acknowledged", s.commands_acknowledged},
                    {"refused_by_device", s.commands_refused_by_device},
                    {"refused_by_cloud", s.commands_refused_by_cloud},
                    {"no_route", s.commands_no_route},
                    {"expired", s.commands_expired}}},
      {"broker", s.broker_enabled ? nlohmann::json{{"connected", s.broker_connected},
                                                   {"messages", s.broker_messages},
                                                   {"connect_failures", s.broker_connect_failures}}
                                  : nlohmann::json(nullptr)},
  };
}

CloudDashboardSource::CloudDashboardSource(const CloudConfig& config, std::unique_ptr<store::Store> store,
                                           DashboardFeeds feeds, Clock& clock)
    : config_(config), store_(std::move(store)), feeds_(std::move(feeds)), clock_(clock) {}

nlohmann::json CloudDashboardSource::latency_p50() {
  if (!feeds_.seal_to_stored) return nullptr;
  auto now = feeds_.seal_to_stored();
  // The distribution since the previous call: the difference of cumulative
  // bucket counts. The p50 is the upper bound of the bucket holding the
  // median (as histogram_quantile would, without interpolation).
  if (last_buckets_.size() == now.size()) {
    const double total = now.back().second - last_buckets_.back().second;
    if (total > 0) {
      for (std::size_t i = 0; i < now.size(); ++i) {
        if (now[i].second - last_buckets_[i].second >= total / 2) {
          last_p50_ = std::isinf(now[i].first) ? nlohmann::json(nullptr) : nlohmann::json(now[i].first);
          break;
        }
      }
    }
  }
  last_buckets_ = std::move(now);
  return last_p50_;
}

nlohmann::json CloudDashboardSource::certificates() {
  const CertificateFacts f = feeds_.certificates ? feeds_.certificates() : read_certificate_facts(config_);
  nlohmann::json crl{{"revoked", 0}, {"last_update_ms", 0}, {"next_update_ms", 0}};
  if (f.crl && *f.crl) {
    const auto& c = **f.crl;
    crl = {{"revoked", c.revoked},
           {"last_update_ms", unix_ms(c.last_update)},
           {"next_update_ms", c.next_update ? unix_ms(*c.next_update) : 0}};
  } else if (f.crl) {
    crl["error"] = f.crl->error().message;
  }
  return {{"cloud", certificate_json(f.cloud)}, {"ca", certificate_json(f.ca)}, {"crl", crl}};
}

nlohmann::json CloudDashboardSource::overview() {
  const CloudStatus s = feeds_.status();
  const auto proc = metrics::read_process();
  nlohmann::json out = status_json(s);
  out["node"] = {
      {"backend", config_.backend},
      {"uptime_s", proc.start_time_seconds > 0
                       ? static_cast<double>(unix_ms(clock_.now())) / 1000.0 - proc.start_time_seconds
                       : 0.0},
      {"rss_bytes", proc.resident_bytes},
      {"cpu_seconds", proc.cpu_seconds},
      {"storage_failing", s.storage_failing},
      {"ingest_lag_p50_s", latency_p50()},
      {"broker", out["broker"]},
  };
  out["traffic"] = {{"messages", s.messages},       {"readings_stored", s.readings_stored},
                    {"duplicates", s.duplicates},   {"rejected", s.rejected},
                    {"announcements", s.announcements}};
  const ConnectionPage page = feeds_.connections(kConnectionRows);
  nlohmann::json conns = nlohmann::json::array();
  for (const auto& c : page.rows) {
    conns.push_back({{"identity", c.identity}, {"role", c.role}, {"address", c.address},
                     {"handshake", c.handshake}, {"since_ms", c.since_ms}});
  }
  out["connections"] = std::move(conns);
  out["connections_total"] = page.total;
  out["certificates"] = certificates();
  out["dashboard_auth_failures"] = auth_failures_;
  return out;
}

Expected<nlohmann::json> CloudDashboardSource::devices(const dashboard::DevicePageRequest& r) {
  store::DeviceQuery q;
  q.search = r.search;
  q.limit = r.per_page;
  q.offset = (r.page - 1) * r.per_page;
  if (r.inactive_s > 0) q.not_seen_since_ms = unix_ms(clock_.now()) - r.inactive_s * 1000;
  auto page = store_->list_devices(q);
  if (!page) return fail("devices", page.error());
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& d : page->devices) {
    rows.push_back({{"identity", d.identity},
                    {"key_id", to_hex(d.key_id)},
                    {"registered_ms", d.registered_at_ms},
                    {"last_seen_ms", d.last_seen_ms}});
  }
  return nlohmann::json{{"total", page->total}, {"page", r.page}, {"per_page", r.per_page}, {"devices", rows}};
}

Expected<nlohmann::json> CloudDashboardSource::gaps(std::size_t limit) {
  store::Store::GapTotals totals;
  auto g = store_->sequence_gaps(limit, &totals);
  if (!g) return fail("gaps", g.error());
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& gap : *g) {
    rows.push_back({{"device", gap.device}, {"epoch", gap.epoch}, {"first", gap.first_missing},
                    {"last", gap.last_missing}, {"missing", gap.count()}, {"since_ms", gap.before_ms}});
  }
  return nlohmann::json{{"totals", {{"gaps", totals.gaps}, {"missing", totals.missing}, {"series", totals.series}}},
                        {"gaps", rows}};
}

Expected<nlohmann::json> CloudDashboardSource::events(std::size_t limit) {
  auto e = store_->recent_events(limit);
  if (!e) return fail("events", e.error());
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& ev : *e) {
    rows.push_back({{"at_ms", ev.at_ms}, {"kind", store::to_string(ev.kind)}, {"reason", ev.reason},
                    {"peer", ev.peer}, {"detail", ev.detail}});
  }
  return nlohmann::json{{"events", rows}};
}

Expected<nlohmann::json> CloudDashboardSource::commands(std::size_t limit) {
  auto c = store_->recent_commands(limit);
  if (!c) return fail("commands", c.error());
  nlohmann::json rows = nlohmann::json::array();
  // Parameters are left out: they are the operator's input, not health,
  // and may be large.
  for (const auto& cmd : *c) {
    rows.push_back({{"id", cmd.id}, {"device", cmd.device}, {"command", cmd.command},
                    {"status", store::to_string(cmd.status)}, {"reason", cmd.reason},
                    {"created_ms", cmd.created_at_ms}, {"updated_ms", cmd.updated_at_ms}});
  }
  return nlohmann::json{{"commands", rows}};
}

std::map<std::string, double> CloudDashboardSource::rate_counters() {
  const CloudStatus s = feeds_.status();
  return {{"readings_stored", static_cast<double>(s.readings_stored)},
          {"messages", static_cast<double>(s.messages)},
          {"rejected", static_cast<double>(s.rejected)},
          {"duplicates", static_cast<double>(s.duplicates)},
          {"handshakes", static_cast<double>(s.handshakes_full + s.handshakes_resumed)},
          {"auth_failures", static_cast<double>(auth_failures_)}};
}

void CloudDashboardSource::record_auth_failure(std::string_view peer, std::string_view why) {
  ++auth_failures_;
  store::SecurityEvent ev;
  ev.at_ms = unix_ms(clock_.now());
  ev.kind = store::EventKind::kOperatorAuthFailed;
  ev.reason = std::string(why);
  ev.peer = std::string(peer);
  if (feeds_.audit) feeds_.audit(std::move(ev));
}

}  // namespace armored::cloud
