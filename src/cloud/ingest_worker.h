#pragma once
// `armored cloud` with [cluster] role = "worker" (docs/scale-out.md): takes
// uplink PUBLISHes that fronts stored in NATS JetStream, opens them with
// the E3 state the workers share in PostgreSQL, stores the readings and
// acknowledges each message to JetStream only once its readings are
// committed. Any number of workers share one durable consumer; a message
// whose worker dies before acknowledging it goes to another, and the
// database's key (device, epoch, sequence) keeps its readings stored once.

#include <cstdint>
#include <memory>
#include <optional>

#include "cloud/config.h"
#include "common/clock.h"
#include "common/result.h"
#include "metrics/metrics.h"

namespace armored::cloud {

struct WorkerStatus {
  std::uint64_t messages = 0;         // JetStream messages taken (each one uplink PUBLISH)
  std::uint64_t redeliveries = 0;     // of them, delivered before (to this worker or another)
  std::uint64_t acknowledged = 0;     // acknowledged to JetStream after their commit
  std::uint64_t envelopes = 0;        // E3 messages in them
  std::uint64_t readings_stored = 0, duplicates = 0, rejected = 0, announcements = 0;
  std::uint64_t epoch_waits = 0;      // messages put back to wait for another worker's announcement
  std::uint64_t state_refreshes = 0;  // device entries read again from the shared state
  std::uint64_t commits = 0, storage_failures = 0;
  bool storage_failing = false;
  bool nats_connected = false;
};

// The worker's Prometheus families ([metrics] in its config): counters of
// the messages and readings above, storage and NATS health.
void add_worker_families(metrics::Families& out, const WorkerStatus& s);

class IngestWorker {
 public:
  // Loads the registry and the shared E3 state and connects to JetStream
  // and PostgreSQL.
  static Expected<std::unique_ptr<IngestWorker>> create(const CloudConfig& config, Clock& clock);
  ~IngestWorker();
  // Works until stop() or SIGTERM/SIGINT, then lets the commits in hand
  // finish. 0 on a clean stop; 1 if it stopped while storage was failing
  // (those messages were not acknowledged and go to another worker).
  int run();
  void stop();  // thread-safe
  WorkerStatus status() const;  // thread-safe
  // Where [metrics] listens (nullopt: off).
  std::optional<std::uint16_t> metrics_port() const;

  struct Impl;

 private:
  explicit IngestWorker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::cloud
