// The cloud's and the gateway's families: named as Prometheus expects
// (promtool has no remarks), and each value taken from its own field.
#include <gtest/gtest.h>

#include "cloud/cloud_metrics.h"
#include "gateway/gateway_metrics.h"
#include "support/process.h"

namespace armored::metrics {
namespace {

void expect_promtool_clean(const std::string& text) {
  auto check = armored::testing::run({"promtool", "check", "metrics"}, std::chrono::seconds(30), text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << "promtool has remarks:\n" << text;
}

TEST(MetricFamilies, CloudStatusMapsFieldByField) {
  cloud::CloudStatus s;
  s.connections = 5;
  s.connections_handshaking = 2;
  s.connections_by_role = {{"gateway", 2}, {"device", 1}};
  s.handshakes_full = 7;
  s.handshakes_resumed = 4;
  s.handshakes_zero_rtt = 1;
  s.handshakes_failed = 3;
  s.handshake_failures_by_reason = {{"bad_certificate", 3}};
  s.readings_stored = 1000;
  s.duplicates = 12;
  s.rejected_by_reason = {{"forged", 2}, {"replayed", 0}};
  s.commands_acknowledged = 9;
  s.crl_age_seconds = 60;
  s.certificate_expiry_seconds = 86400;
  s.gap_readings = 17;
  s.gap_series = 2;
  prometheus::Registry live;
  cloud::CloudHistograms h(live);
  h.commit_seconds.Observe(0.004);
  Families f;
  add_cloud_families(f, s);
  auto more = live.Collect();
  f.insert(f.end(), more.begin(), more.end());
  const std::string text = to_text(f);
  expect_promtool_clean(text);
  for (const char* want : {"armored_cloud_connections{state=\"established\"} 3",
                           "armored_cloud_connections{state=\"handshaking\"} 2",
                           "armored_cloud_connections_by_role{role=\"gateway\"} 2",
                           "armored_cloud_handshakes_total{kind=\"full\"} 7",
                           "armored_cloud_handshakes_total{kind=\"resumed\"} 3",
                           "armored_cloud_handshakes_total{kind=\"zero_rtt\"} 1",
                           "armored_cloud_handshake_failures_by_reason_total{reason=\"bad_certificate\"} 3",
                           "armored_cloud_readings_stored_total 1000",
                           "armored_cloud_readings_duplicate_total 12",
                           "armored_cloud_rejected_total{reason=\"forged\"} 2",
                           "armored_cloud_rejected_total{reason=\"replayed\"} 0",
                           "armored_cloud_commands_total{outcome=\"acknowledged\"} 9",
                           "armored_cloud_crl_age_seconds 60",
                           "armored_cloud_certificate_expiry_seconds 86400",
                           "armored_cloud_sequence_gap_readings 17", "armored_cloud_sequence_gap_series 2",
                           "armored_cloud_commit_duration_seconds_count 1"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  // No broker configured: no broker series to alert on by mistake.
  EXPECT_EQ(text.find("armored_cloud_broker_connected"), std::string::npos);
}

TEST(MetricFamilies, GatewayStatusMapsFieldByField) {
  gateway::GatewayStatus s;
  s.datagrams = 100;
  s.spooled = 90;
  s.acknowledged = 80;
  s.pending = 10;
  s.spool_bytes = 4096;
  s.backlog_age_seconds = 2.5;
  s.inflight_messages = 6;
  s.connects = 5;
  s.resumed = 3;
  s.zero_rtt = 1;
  s.receipt_mode = true;
  s.receipt_resends = 4;
  s.mirror_repairs = 2;
  Families f;
  add_gateway_families(f, s);
  const std::string text = to_text(f);
  expect_promtool_clean(text);
  for (const char* want : {"armored_gateway_datagrams_total 100", "armored_gateway_spooled_total 90",
                           "armored_gateway_acknowledged_total 80", "armored_gateway_spool_records 10",
                           "armored_gateway_spool_bytes 4096", "armored_gateway_spool_backlog_age_seconds 2.5",
                           "armored_gateway_forward_inflight_messages 6",
                           "armored_gateway_connects_total{kind=\"full\"} 2",
                           "armored_gateway_connects_total{kind=\"resumed\"} 2",
                           "armored_gateway_connects_total{kind=\"zero_rtt\"} 1",
                           "armored_gateway_receipt_resends_total 4",
                           "armored_gateway_spool_mirror_repairs_total 2"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
}

// The shipped scrape configuration and alert rules are what Prometheus
// accepts, and every metric an alert names is one the cloud or gateway
// serves.
TEST(MetricFamilies, SamplePrometheusConfigAndAlertsCheck) {
  auto cfg = armored::testing::run(
      {"promtool", "check", "config", armored::testing::source_path("config/prometheus/prometheus.yml").string()},
      std::chrono::seconds(30));
  EXPECT_EQ(cfg.exit_code, 0) << cfg.out << cfg.err;
  cloud::CloudStatus cs;
  cs.gap_readings = 0;
  cs.gap_series = 0;
  cs.broker_enabled = true;
  cs.crl_age_seconds = 0;  // served when a CRL is configured, as it always is for a server
  cs.rejected_by_reason = {{"forged", 0}};
  cs.handshake_failures_by_reason = {{"certificate_revoked", 1}};
  Families f;
  add_cloud_families(f, cs);
  add_gateway_families(f, gateway::GatewayStatus{});
  const std::string served = to_text(f);
  const std::string rules = armored::testing::slurp(armored::testing::source_path("config/prometheus/armored-alerts.yml"));
  std::size_t named = 0;
  for (std::size_t at = rules.find("armored_"); at != std::string::npos; at = rules.find("armored_", at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(rules[at - 1])) || rules[at - 1] == '_')) continue;
    std::size_t end = at;
    while (end < rules.size() && (std::isalnum(static_cast<unsigned char>(rules[end])) || rules[end] == '_')) ++end;
    const std::string metric = rules.substr(at, end - at);
    if (metric.rfind("armored_cloud_", 0) != 0 && metric.rfind("armored_gateway_", 0) != 0) continue;
    ++named;
    EXPECT_NE(served.find("\n" + metric), std::string::npos) << metric << " is in an alert but never served";
  }
  EXPECT_GE(named, 8u);
}

}  // namespace
}  // namespace armored::metrics
