#include "cloud/cloud_metrics.h"

namespace armored::cloud {

namespace {
prometheus::Histogram& histogram(prometheus::Registry& r, const char* name, const char* help,
                                 prometheus::Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}
double d(std::uint64_t v) { return static_cast<double>(v); }
}  // namespace

CloudHistograms::CloudHistograms(prometheus::Registry& registry)
    : commit_seconds(histogram(registry, "armored_cloud_commit_duration_seconds",
                               "Time one storage commit took (a failed attempt is not observed).",
                               metrics::latency_buckets())),
      commit_readings(histogram(registry, "armored_cloud_commit_readings", "Readings stored by one commit.",
                                {1, 10, 50, 100, 500, 1000, 5000, 10000, 50000})),
      seal_to_stored_seconds(histogram(registry, "armored_cloud_seal_to_stored_seconds",
                                       "From a reading's own timestamp (the device's clock) to its commit.",
                                       metrics::latency_buckets())) {}

void add_cloud_families(metrics::Families& out, const CloudStatus& s) {
  using metrics::add_counter;
  using metrics::add_gauge;
  add_gauge(out, "armored_cloud_connections", "Client connections open now, by state.",
            d(s.connections - s.connections_handshaking), {{"state", "established"}});
  add_gauge(out, "armored_cloud_connections", "Client connections open now, by state.", d(s.connections_handshaking),
            {{"state", "handshaking"}});
  for (const auto& [role, n] : s.connections_by_role) {
    add_gauge(out, "armored_cloud_connections_by_role", "Established connections now, by the peer's role.", d(n),
              {{"role", role}});
  }
  const char* hs = "TLS handshakes completed, by kind.";
  add_counter(out, "armored_cloud_handshakes_total", hs, d(s.handshakes_full), {{"kind", "full"}});
  add_counter(out, "armored_cloud_handshakes_total", hs, d(s.handshakes_resumed - s.handshakes_zero_rtt),
              {{"kind", "resumed"}});
  add_counter(out, "armored_cloud_handshakes_total", hs, d(s.handshakes_zero_rtt), {{"kind", "zero_rtt"}});
  add_counter(out, "armored_cloud_handshake_failures_total", "TLS handshakes that failed, all reasons.",
              d(s.handshakes_failed));
  for (const auto& [reason, n] : s.handshake_failures_by_reason) {
    add_counter(out, "armored_cloud_handshake_failures_by_reason_total", "TLS handshakes that failed, by reason.",
                d(n), {{"reason", reason}});
  }
  const char* ed = "0-RTT early data offered by resuming clients, by what became of it.";
  add_counter(out, "armored_cloud_early_data_total", ed, d(s.early_data_accepted), {{"outcome", "accepted"}});
  add_counter(out, "armored_cloud_early_data_total", ed, d(s.early_data_rejected), {{"outcome", "rejected"}});
  add_counter(out, "armored_cloud_early_data_total", ed, d(s.early_data_replays_refused),
              {{"outcome", "replay_refused"}});
  add_counter(out, "armored_cloud_refused_connections_total",
              "Connections refused at an admission limit, handshakes evicted, older connections replaced.",
              d(s.refused_connections), {{"why", "limit"}});
  add_counter(out, "armored_cloud_refused_connections_total",
              "Connections refused at an admission limit, handshakes evicted, older connections replaced.",
              d(s.evicted_handshakes), {{"why", "evicted_handshake"}});
  add_counter(out, "armored_cloud_refused_connections_total",
              "Connections refused at an admission limit, handshakes evicted, older connections replaced.",
              d(s.replaced_by_identity), {{"why", "replaced_by_identity"}});

  add_counter(out, "armored_cloud_messages_total", "E3 messages received (readings, announcements, replies).",
              d(s.messages));
  add_counter(out, "armored_cloud_readings_opened_total", "Readings opened and valid, before the duplicate check.",
              d(s.readings_opened));
  add_counter(out, "armored_cloud_readings_stored_total", "Readings stored (each exactly once).",
              d(s.readings_stored));
  add_counter(out, "armored_cloud_readings_duplicate_total",
              "Readings found stored already (a re-sent copy): dropped, acknowledged.", d(s.duplicates));
  add_counter(out, "armored_cloud_late_readings_total",
              "Readings opened left of the replay window, decided by storage.", d(s.late_readings));
  for (const auto& [reason, n] : s.rejected_by_reason) {
    add_counter(out, "armored_cloud_rejected_total", "Messages refused, by reason.", d(n),
                {{"reason", reason}});
  }
  add_counter(out, "armored_cloud_announcements_total", "Epoch announcements accepted.", d(s.announcements));
  add_counter(out, "armored_cloud_acl_denied_total", "Publishes to a topic the peer may not use.", d(s.acl_denied));
  add_counter(out, "armored_cloud_commits_total", "Storage commits.", d(s.commits));
  add_counter(out, "armored_cloud_storage_failures_total", "Failed storage commit attempts (each retried).",
              d(s.storage_failures));
  add_gauge(out, "armored_cloud_storage_failing", "1 while storage commits fail (nothing is acknowledged).",
            s.storage_failing ? 1 : 0);
  add_counter(out, "armored_cloud_audit_events_summarized_total",
              "Security events counted in summary rows instead of a row each.", d(s.audit_events_summarized));
  add_counter(out, "armored_cloud_audit_rows_not_stored_total", "Audit rows dropped below the disk reserve.",
              d(s.audit_rows_not_stored));

  const char* cmd = "Device commands, by outcome.";
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_sent), {{"outcome", "sent"}});
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_acknowledged), {{"outcome", "acknowledged"}});
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_refused_by_device),
              {{"outcome", "refused_by_device"}});
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_refused_by_cloud),
              {{"outcome", "refused_by_cloud"}});
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_no_route), {{"outcome", "no_route"}});
  add_counter(out, "armored_cloud_commands_total", cmd, d(s.commands_expired), {{"outcome", "expired"}});

  if (s.broker_enabled) {
    add_gauge(out, "armored_cloud_broker_connected", "1 while the broker source is connected.",
              s.broker_connected ? 1 : 0);
    add_counter(out, "armored_cloud_broker_messages_total", "PUBLISHes taken from the broker.", d(s.broker_messages));
    add_counter(out, "armored_cloud_broker_connect_failures_total", "Failed connections to the broker.",
                d(s.broker_connect_failures));
  }
  if (s.front) {
    add_counter(out, "armored_cloud_jetstream_published_total",
                "Uplink PUBLISHes JetStream stored (each then acknowledged to its sender).", d(s.jetstream_published));
    add_counter(out, "armored_cloud_jetstream_retries_total", "Publishes to JetStream tried again after a failure.",
                d(s.jetstream_retries));
    add_gauge(out, "armored_cloud_jetstream_waiting_messages", "Uplink PUBLISHes waiting for JetStream to store them.",
              d(s.jetstream_waiting));
    add_gauge(out, "armored_cloud_nats_connected", "1 while connected to a NATS server.", s.nats_connected ? 1 : 0);
    for (const auto& b : s.bus_refused) {
      add_counter(out, "armored_cloud_bus_refused_total",
                  "Messages refused on the command subjects between a scaled cloud's roles, by subject and reason.",
                  d(b.count), {{"subject", b.subject}, {"reason", b.reason}});
    }
  }
  if (s.crl_age_seconds >= 0) {
    add_gauge(out, "armored_cloud_crl_age_seconds", "Time since the loaded CRL's lastUpdate.", s.crl_age_seconds);
  }
  if (s.gap_readings >= 0) {
    add_gauge(out, "armored_cloud_sequence_gap_readings",
              "Readings missing from devices' sequence numbers (armored report gaps), counted about once a minute.",
              static_cast<double>(s.gap_readings));
    add_gauge(out, "armored_cloud_sequence_gap_series", "Device epochs with at least one missing reading.",
              static_cast<double>(s.gap_series));
  }
  add_gauge(out, "armored_cloud_certificate_expiry_seconds", "Time until the cloud's own certificate expires.",
            s.certificate_expiry_seconds);
}

}  // namespace armored::cloud
