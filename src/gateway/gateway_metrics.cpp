#include "gateway/gateway_metrics.h"

namespace armored::gateway {

namespace {
double d(std::uint64_t v) { return static_cast<double>(v); }
}  // namespace

void add_gateway_families(metrics::Families& out, const GatewayStatus& s) {
  using metrics::add_counter;
  using metrics::add_gauge;
  add_counter(out, "armored_gateway_datagrams_total", "Datagrams received from devices.", d(s.datagrams));
  add_counter(out, "armored_gateway_malformed_total", "Datagrams refused as malformed.", d(s.malformed));
  add_counter(out, "armored_gateway_refused_full_total", "Messages refused because the spool was full (devices told busy).",
              d(s.refused_full));
  add_counter(out, "armored_gateway_spooled_total", "Messages written to the spool and answered.", d(s.spooled));
  add_counter(out, "armored_gateway_duplicates_total", "Messages a device sent again that the spool held already.",
              d(s.duplicates));
  add_counter(out, "armored_gateway_forwarded_total", "Messages published towards the cloud.", d(s.forwarded));
  add_counter(out, "armored_gateway_redelivered_total", "Messages published again with DUP set.", d(s.redelivered));
  add_counter(out, "armored_gateway_acknowledged_total", "Messages the cloud confirmed stored; they leave the spool.",
              d(s.acknowledged));
  add_gauge(out, "armored_gateway_spool_records", "Records in the spool not confirmed yet (the backlog).", d(s.pending));
  add_gauge(out, "armored_gateway_spool_bytes", "Bytes of spool segment files on disk.", d(s.spool_bytes));
  add_gauge(out, "armored_gateway_spool_backlog_age_seconds", "How long the oldest unconfirmed record has waited.",
            s.backlog_age_seconds);
  add_gauge(out, "armored_gateway_spool_failing", "1 while the spool refuses writes (disk full, I/O error).",
            s.spool_failing ? 1 : 0);
  add_gauge(out, "armored_gateway_forward_inflight_messages", "Messages published, their PUBACK not in yet.",
            d(s.inflight_messages));
  add_gauge(out, "armored_gateway_connected", "1 while the MQTT session to the cloud or broker is up.",
            s.connected ? 1 : 0);
  const char* hs = "TLS connections made to the cloud or broker, by kind.";
  add_counter(out, "armored_gateway_connects_total", hs, d(s.connects - s.resumed), {{"kind", "full"}});
  add_counter(out, "armored_gateway_connects_total", hs, d(s.resumed - s.zero_rtt), {{"kind", "resumed"}});
  add_counter(out, "armored_gateway_connects_total", hs, d(s.zero_rtt), {{"kind", "zero_rtt"}});
  add_counter(out, "armored_gateway_connect_failures_total", "Failed connection attempts.", d(s.connect_failures));
  add_counter(out, "armored_gateway_commands_relayed_total", "Commands relayed to devices.", d(s.downlink_relayed));
  add_counter(out, "armored_gateway_commands_unknown_device_total", "Commands for devices this gateway has not seen.",
              d(s.downlink_unknown));
  add_counter(out, "armored_gateway_answer_datagrams_total", "Answer datagrams sent to devices.", d(s.answer_datagrams));
  if (s.receipt_mode) {
    add_gauge(out, "armored_gateway_awaiting_receipt_messages", "Messages the broker acknowledged, no receipt yet.",
              d(s.awaiting_receipt));
    add_counter(out, "armored_gateway_receipts_total", "Receipts from the cloud taken.", d(s.receipts));
    add_counter(out, "armored_gateway_receipts_refused_total", "Receipts refused (signature, format, other gateway).",
                d(s.receipts_refused));
    add_counter(out, "armored_gateway_receipt_resends_total", "Messages sent again because no receipt came.",
                d(s.receipt_resends));
  }
  add_gauge(out, "armored_gateway_spool_quarantined_ranges", "Damaged spool ranges moved aside at start.",
            d(s.quarantined.size()));
  add_counter(out, "armored_gateway_spool_mirror_repairs_total", "Spool ranges repaired from the mirror at start.",
              d(s.mirror_repairs));
  add_counter(out, "armored_gateway_spool_mirror_reads_total", "Records read from the mirror after a failed check.",
              d(s.mirror_reads));
}

}  // namespace armored::gateway
