#pragma once
// Sans-I/O TLS connection (after fizz and ngtcp2): OpenSSL runs over memory
// BIOs, so the caller feeds received bytes in and takes bytes to send out.
// No sockets, no clock reads: time enters only as the `now` the caller passes
// to start(), feed() and on_timer() (tls::Duplex reads the Clock for it), so
// the same object runs on the event loop, in unit tests and in the fuzzer.
//
// Usage: create, call start() (the client's first flight), then loop:
// send take_output() to the peer, feed() what arrives, act on the events.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "tls/context.h"
#include "tls/error.h"

namespace armored::tls {

// The peer's verified identity from its certificate's SAN URI
// urn:armored:gateway:<id> or urn:armored:device:<id>.
struct PeerIdentity {
  enum class Kind : std::uint8_t { kNone, kGateway, kDevice };
  Kind kind = Kind::kNone;
  std::string id;   // <id>
  std::string uri;     // the whole URI
  std::string serial;  // the presented certificate's serial, as ossl::serial_hex spells it ("03EB")
};

struct HandshakeComplete {
  bool resumed = false;
  bool early_data_accepted = false;
  std::string cipher;   // e.g. TLS_AES_128_GCM_SHA256
  std::string version;  // e.g. TLSv1.3
  PeerIdentity peer;    // set on servers (client certificate)
};
struct ApplicationData {
  Bytes bytes;
  // True if these bytes came as 0-RTT early data: they may be a replay, so
  // only replay-safe messages (e.g. E3 envelopes) may be acted on.
  bool arrived_as_early_data = false;
};
// Client: a resumable session the server issued; persist it for the next
// connection (SessionStore). `der` is the serialized session.
struct NewSessionTicket {
  Bytes der;
  std::uint32_t lifetime_seconds = 0;
  std::uint32_t max_early_data = 0;
};
struct Closed {
  bool clean = true;  // peer sent close_notify
};
struct Failed {
  TlsError error;
};
using Event = std::variant<HandshakeComplete, ApplicationData, NewSessionTicket, Closed, Failed>;

struct ClientOptions {
  std::string server_name;  // DNS name or IP literal checked against the server cert
  std::optional<Bytes> session;  // DER session from NewSessionTicket, to resume
  // Sent as 0-RTT if the session allows it and it fits; otherwise (or if the
  // server rejects early data) sent as ordinary data after the handshake.
  Bytes early_data;
};

class Connection {
 public:
  // Limits: feed() accepts at most this many bytes per call.
  static constexpr std::size_t kMaxFeed = 1u << 20;
  // Bytes of application data buffered by write() before the handshake.
  static constexpr std::size_t kMaxPendingWrite = 1u << 20;

  static Expected<std::unique_ptr<Connection>> client(TlsContext& ctx, const ClientOptions& opts);
  static Expected<std::unique_ptr<Connection>> server(TlsContext& ctx);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Client: produces the first flight (ClientHello, plus early data if any).
  // Servers need not call it. `now` (as in feed) is the time at which the
  // peer's certificates and our CRL are judged during the handshake.
  std::vector<Event> start(Clock::TimePoint now);
  // Processes bytes from the peer at time `now`. Returns what happened; after
  // a Failed or Closed event the connection accepts no more input.
  std::vector<Event> feed(ByteSpan in, Clock::TimePoint now);
  // Queues application data; before the handshake completes it is held and
  // sent as soon as keys exist. Fails once closed or failed.
  Result<void, TlsError> write(ByteSpan app);
  // Sends close_notify.
  void close();
  // The transport failed or timed out (the driver's call): the connection
  // is failed and the reason counted. No-op once closed or failed.
  void abort(TlsError error);
  // Time limits are on the caller's monotonic scale (Clock::monotonic()),
  // never on wall time, which may jump.
  // A handshake not complete at `deadline` fails with Reason::kTimeout when
  // on_timer() is called at or after it. Without one, no handshake limit.
  void set_handshake_deadline(Clock::Duration deadline);
  // When on_timer() next has something to do; nullopt: nothing pending.
  std::optional<Clock::Duration> next_deadline() const;
  // Acts on what is due at `monotonic_now`: a Failed{kTimeout} event if the
  // handshake is past its deadline, nothing otherwise.
  std::vector<Event> on_timer(Clock::Duration monotonic_now);
  // Bytes to send to the peer (and clears them).
  Bytes take_output();
  bool has_output() const;
  // How many bytes take_output() would return.
  std::size_t output_size() const;

  bool handshake_done() const;
  bool is_open() const;  // neither closed nor failed
  bool is_server() const;

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Hands `bytes` to conn.write() in pieces of at most kMaxPendingWrite, since
// one write() refuses more. Returns how many bytes were queued: all of them,
// unless the connection refused a piece (closed, failed, or pre-handshake
// buffer full); the caller keeps the rest.
std::size_t write_in_pieces(Connection& conn, ByteSpan bytes);

}  // namespace armored::tls
