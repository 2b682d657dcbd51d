#pragma once
// The cloud's second source: an MQTT client that subscribes to
// armored/v1/+/up on a standard broker (Mosquitto, AWS IoT Core) over mutual
// TLS 1.3 and feeds every PUBLISH through the same Ingest and StoreWriter as
// the listener. A PUBLISH is acknowledged to the broker only once its batch
// is durable: at-least-once from the broker, exactly-once in storage.
//
// The session is persistent (clean session off, a stable client id), so the
// broker queues uplinks while the cloud is down; reconnects back off
// exponentially with full jitter and resume with the TLS ticket on disk.
//
// Identity: the topic's <id> is only the broker's claim. Which device a
// reading belongs to is decided by the E3 key ID binding alone; the claim and
// the broker's address go into the audit trail as the peer
// ("<id> via broker host:port").
//
// Receipts: once a PUBLISH is durable, its batch id goes into the next signed
// receipt for the gateway named by its topic (armored/v1/<id>/receipts), so
// a gateway that waits for receipts keeps each batch until the cloud has it,
// whatever the broker loses (docs/broker.md, "Receipts").
//
// Runs entirely on the cloud's network thread (the io_context given).

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <optional>

#include "cloud/broker_config.h"
#include "cloud/internal/e3_state_file.h"
#include "cloud/ingest.h"
#include "cloud/internal/store_writer.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/ec.h"

namespace armored::cloud {

struct BrokerSourceStatus {
  bool connected = false;
  bool session_resumed = false;        // the broker kept our session (and what it queued)
  std::uint64_t connects = 0;          // MQTT sessions established (CONNACK accepted)
  std::uint64_t connect_failures = 0;  // TCP, TLS or CONNACK failures
  std::uint64_t messages = 0;          // PUBLISH packets taken from the broker
  std::uint64_t acknowledged = 0;      // PUBACKs sent after a durable commit
  std::uint64_t foreign_topics = 0;    // PUBLISH outside armored/v1/<id>/up (dropped, audited)
  std::uint64_t receipts = 0;          // receipts published (docs/broker.md, "Receipts")
  std::uint64_t receipted_batches = 0;  // PUBLISH payloads named in them
  std::uint64_t receipts_dropped = 0;  // batch ids dropped over the per-gateway bound (the gateway re-sends)
};

class BrokerSource {
 public:
  struct Deps {
    asio::io_context& io;
    Clock& clock;
    Ingest& ingest;
    e3::Opener& opener;
    StoreWriter& writer;
    // Numbers E3 state snapshots so the two writers of the file never roll
    // it back (e3_state_file.h).
    E3StateFile* state_file = nullptr;
    // Signs receipts; none: no receipts are published.
    std::optional<crypto::EcPrivateKey> receipt_key;
  };

  // Loads the TLS client context and the ticket directory; connects nothing yet.
  static Expected<std::unique_ptr<BrokerSource>> create(const BrokerConfig& config, Deps deps);
  ~BrokerSource();

  // Starts connecting (and reconnecting) on the io_context.
  void start();
  // Takes nothing new; once the PUBLISHes being stored are acknowledged,
  // disconnects (the broker keeps the session) and stops reconnecting.
  void stop();
  BrokerSourceStatus status() const;

  struct Impl;

 private:
  explicit BrokerSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::cloud
