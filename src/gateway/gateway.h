#pragma once
// `armored gateway`: receives E3 messages from devices over UDP, keeps them
// in a durable spool, and forwards them in batches over mutual TLS 1.3 +
// MQTT QoS 1 to the cloud (or a broker). A message leaves the spool only
// when the cloud has acknowledged it. The gateway holds no E3 key: it can
// read the public header (key ID, sequence) and nothing else.
//
// Reconnects use exponential back-off with jitter and resume with the
// ticket saved on disk; the first batch after a resumption rides in 0-RTT
// early data when the ticket allows (E3 makes it replay-safe).

#include <memory>
#include <optional>

#include "common/clock.h"
#include <string>
#include <vector>

#include "common/result.h"
#include "gateway/config.h"

namespace armored::gateway {

struct GatewayStatus {
  std::uint64_t datagrams = 0, malformed = 0, refused_full = 0, spooled = 0, duplicates = 0;
  std::uint64_t forwarded = 0, acknowledged = 0, pending = 0;
  std::uint64_t redelivered = 0;  // messages forwarded again in a DUP=1 PUBLISH
  std::uint64_t connects = 0, resumed = 0, zero_rtt = 0, connect_failures = 0;
  std::uint64_t downlink_relayed = 0, downlink_unknown = 0;
  // Answer datagrams sent, and how many of them were packed (several answers).
  std::uint64_t answer_datagrams = 0, packed_answers = 0;
  bool connected = false;
  // What opening the spool repaired (docs/spool.md, "Damage"): damaged bytes
  // moved to these files, record ids lost with them, a torn tail cut, a
  // damaged ack cursor rebuilt.
  std::vector<std::string> quarantined;
  std::uint64_t lost_record_ids = 0, torn_bytes = 0;
  bool ack_rebuilt = false;
  // With a spool mirror (docs/spool.md, "Mirror"): damaged or cut ranges of
  // one copy rewritten from the other at start, segments one copy lacked and
  // took whole from the other, and records read from the mirror since
  // because the primary's failed its checks. Nothing was lost to any of
  // them, but a disk went bad and an operator should look at it.
  std::uint64_t mirror_repairs = 0, mirror_copied_segments = 0, mirror_reads = 0;
  bool spool_failing = false;  // writes refused (disk full, I/O error): devices are answered busy
  // With forward.confirm = "receipt" (docs/broker.md, "Receipts"): messages
  // the broker acknowledged that no receipt has named yet, receipts taken,
  // receipts refused (bad signature, malformed, another gateway's), and
  // messages sent again because no receipt came in time.
  bool receipt_mode = false;
  std::uint64_t awaiting_receipt = 0, receipts = 0, receipts_refused = 0, receipt_resends = 0;
  // For metrics and `armored status` (docs/operations.md).
  std::uint64_t spool_bytes = 0;           // segment files on disk
  std::uint64_t inflight_messages = 0;     // published, the broker's or cloud's PUBACK not in yet
  double backlog_age_seconds = 0;          // how long the oldest unacknowledged record has waited (0: none)
};

class Gateway {
 public:
  static Expected<std::unique_ptr<Gateway>> create(const GatewayConfig& config, Clock& clock);
  ~Gateway();
  // Binds the UDP socket (port 0 picks one); returns the port.
  Expected<std::uint16_t> bind();
  // Runs until stop() or SIGTERM/SIGINT.
  int run();
  void stop();  // thread-safe
  // Thread-safe: from another thread while running, a copy taken on the
  // network thread.
  GatewayStatus status() const;
  // The [metrics] listener's port, once bind() has started it.
  std::optional<std::uint16_t> metrics_port() const;

  struct Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string format_status(const GatewayStatus& now, const GatewayStatus& before, double seconds);
// "; spool mirror: ..." when the mirror repaired or served anything, else empty.
std::string format_mirror_repairs(const GatewayStatus& s);

}  // namespace armored::gateway
