#pragma once
// The durable, replicated log between the scaled cloud's fronts and its
// ingest workers (docs/scale-out.md): a NATS JetStream stream, reached
// through the NATS C client (libnats).
//
// A front publishes each accepted uplink PUBLISH as one message with a
// message id; JetStream drops a second message with the same id within the
// stream's duplicate window, and the front acknowledges the gateway only
// once JetStream has stored the message on a majority of its replicas.
// Workers pull from one durable consumer and acknowledge each message only
// after its readings are committed; a message not acknowledged in time is
// delivered again, to any worker.
//
// libnats runs its own threads: a publish's completion and a connection's
// state changes are reported on them, never on the caller's thread.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::jetstream {

struct Options {
  std::vector<std::string> servers;  // "nats://127.0.0.1:4222", every node of the cluster
  std::string name;                  // this connection's name, as the servers show it
  std::string stream = "ARMORED_INGEST";
  std::string subject = "armored.ingest";  // the stream holds subject + ".>"
  int replicas = 3;                         // 1 for a single node
  std::chrono::seconds duplicate_window{120};
  std::int64_t max_bytes = 1LL << 30;       // when full, publishes fail (never drop what is stored)
  std::chrono::milliseconds request_timeout{5000};  // JetStream API calls and each publish's ack
  // How long connect() keeps trying a cluster that is still starting (no
  // server answers, or no JetStream leader yet).
  std::chrono::milliseconds connect_patience{30000};
  // Workers' durable consumer.
  std::string consumer = "armored-workers";
  std::chrono::seconds ack_wait{30};
  int max_ack_pending = 8192;
  // TLS to the NATS servers (empty: plain TCP, for a private network or 127.0.0.1).
  std::string ca_file, cert_file, key_file;
};

// Checks what no server needs to answer: servers given, names usable as
// NATS subjects and stream names, numbers in range.
Status validate(const Options& options);

// One header of a message ("Armored-Peer" and so on).
using Header = std::pair<std::string, std::string>;

// The connection's state, for metrics and status.
struct ConnectionStats {
  bool connected = false;
  std::uint64_t reconnects = 0;
  std::uint64_t published = 0;     // stored by JetStream (acknowledged)
  std::uint64_t publish_failures = 0;
  std::string server;              // the server connected to now
};

class Publisher {
 public:
  // Called once per publish, on a libnats thread: ok once JetStream has
  // stored the message (or had it already: a duplicate id), else why not
  // (timeout, stream full, no quorum). A failed publish may be retried with
  // the same id.
  using Done = std::function<void(Status)>;

  // Connects (retrying in the background when no server answers yet) and
  // creates or updates the stream.
  static Expected<std::unique_ptr<Publisher>> connect(const Options& options);
  virtual ~Publisher() = default;

  // Queues the message; `done` reports the outcome. Fails at once (and
  // `done` is not called) only when the client cannot take it.
  virtual Status publish(std::string_view subject_suffix, std::string_view msg_id,
                         const std::vector<Header>& headers, ByteSpan data, Done done) = 0;
  virtual ConnectionStats stats() const = 0;
};

// One delivered message. Destroying it without ack() or nak() leaves it to
// be delivered again after the consumer's ack wait.
class Delivery {
 public:
  virtual ~Delivery() = default;
  virtual ByteSpan data() const = 0;
  virtual std::optional<std::string> header(const char* name) const = 0;
  virtual std::uint64_t times_delivered() const = 0;  // 1 the first time
  virtual std::uint64_t stream_sequence() const = 0;
  // Done with: never deliver it again.
  virtual Status ack() = 0;
  // Not now: deliver it again after `delay` (to any worker).
  virtual Status nak(std::chrono::milliseconds delay) = 0;
};

class Consumer {
 public:
  // Connects, creates or updates the stream and the durable pull consumer.
  static Expected<std::unique_ptr<Consumer>> connect(const Options& options);
  virtual ~Consumer() = default;
  // Up to `max` messages, waiting at most `wait` for the first. Empty when
  // none came in time; an error when the servers cannot be reached.
  virtual Expected<std::vector<std::unique_ptr<Delivery>>> fetch(int max, std::chrono::milliseconds wait) = 0;
  virtual ConnectionStats stats() const = 0;
};

// Plain NATS subjects (no JetStream) between the roles, for what has its own
// timeout and audit trail (commands to devices, their replies): at most
// once, to whoever is subscribed now.
class Bus {
 public:
  // A received message: its payload and a header by name.
  struct Message {
    ByteSpan data;
    std::function<std::optional<std::string>(const char* name)> header;
  };
  using Handler = std::function<void(const Message&)>;  // on a libnats thread

  static Expected<std::unique_ptr<Bus>> connect(const Options& options);
  virtual ~Bus() = default;
  virtual Status publish(const std::string& subject, const std::vector<Header>& headers, ByteSpan data) = 0;
  // Until the bus is destroyed.
  virtual Status subscribe(const std::string& subject, Handler handler) = 0;
};

}  // namespace armored::jetstream
