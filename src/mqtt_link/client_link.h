#pragma once
// mqtt_link::ClientLink: the one MQTT 3.1.1 over TLS 1.3 client connection
// that every client role uses (the gateway's uplink, the cloud's broker
// source, direct devices). It owns everything that touches the socket:
//
//   - resolving and connecting TCP, then a tls::Duplex over it;
//   - a fresh mqtt::ClientSession for each connection (CONNECT is queued
//     before the handshake, so it leaves with the first flight);
//   - one timer, armed at the session's next_deadline() (keep-alive PINGREQ,
//     CONNACK and PINGRESP timeouts, QoS 1 retransmission), never a
//     fixed-period poll;
//   - moving the session's output into TLS in pieces within the
//     connection's per-write limit;
//   - saving, loading and forgetting session tickets, and 0-RTT when the
//     owner wants it;
//   - reconnecting after an exponential back-off with full jitter
//     (common/backoff.h), reset by each accepted CONNACK.
//
// The owner keeps the policy: what to publish and how much, what a PUBACK
// or a received PUBLISH means, what to count and log. It acts in the
// handler's callbacks, publishes through session(), and calls flush() after
// queuing anything outside a callback.
//
// Single-threaded: every call from the io_context's thread. The link must
// outlive the io_context's run (its coroutines refer to it).

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/rng.h"
#include "mqtt/client_session.h"
#include "tls/connection.h"

namespace armored::tls {
class Duplex;
class SessionStore;
class TlsContext;
}  // namespace armored::tls

namespace armored::mqtt_link {

// Shared by many links (a fleet of direct devices) so that at most
// `max_connecting` of them are between starting TCP and CONNACK at once:
// thousands of devices started together must not stampede the server.
class ConnectLimiter {
 public:
  explicit ConnectLimiter(std::size_t max_connecting) : free_(max_connecting) {}
  ConnectLimiter(const ConnectLimiter&) = delete;
  ConnectLimiter& operator=(const ConnectLimiter&) = delete;
  std::size_t waiting() const { return waiting_.size(); }

 private:
  friend class ClientLink;
  struct Waiter {
    asio::steady_timer* timer;
    bool granted = false;
  };
  bool try_take();
  void release();  // hands the slot to the oldest waiter, if any
  void withdraw(Waiter* w);
  std::size_t free_;
  std::deque<Waiter*> waiting_;
};

struct LinkOptions {
  std::string host;  // connected to; also the TLS server name unless server_name is set
  std::uint16_t port = 8883;
  std::string server_name;  // checked in the server's certificate, keys the ticket; empty: host
  // Other endpoints of the same service (a scaled cloud's fronts, each with
  // the same certificate name). An attempt that cannot reach an endpoint
  // (TCP or TLS) moves to the next one in turn; a connection that was up and
  // then ended tries its endpoint again first. Tickets are kept under host
  // and port above, so one ticket serves every front that shares the
  // ticket keys.
  std::vector<std::pair<std::string, std::uint16_t>> alternates;
  // Each connection starts a new session from these.
  mqtt::ClientOptions mqtt;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{10000};
  // Resumption: tickets are loaded from and saved to this store (none: every
  // connection is a full handshake). A ticket the server refused is forgotten.
  tls::SessionStore* tickets = nullptr;
  // 0-RTT: with a ticket that allows it, CONNECT and what the owner
  // publishes in on_session (at most the budget it is given) ride in early
  // data. 0: never (CONNECT, SUBSCRIBE and most PUBLISHes are not
  // replay-safe; E3 readings are).
  std::size_t early_data_max_bytes = 0;
  ConnectLimiter* limiter = nullptr;
  // Prefix of the few lines the link logs itself (a ticket it cannot save).
  std::string log_name = "mqtt";
};

// Why a connection (or an attempt) ended.
struct LinkDown {
  enum class Stage : std::uint8_t {
    kTcp,      // resolving or connecting failed
    kTls,      // the TLS setup or handshake failed (the server refused us, or we it)
    kSession,  // after the handshake: transport lost, peer closed, MQTT closed (CONNACK refused, keep-alive)
  };
  Stage stage = Stage::kSession;
  std::string endpoint;    // "host:port" of this attempt (where() may name the next one already)
  bool resolving = false;  // kTcp: the host name did not resolve
  std::string reason;      // for logs
  std::optional<tls::TlsError> tls_error;  // set when TLS reported the end
  std::optional<mqtt::Error> mqtt_error;   // set when the MQTT session ended it
  // The next attempt's delay; unset when the link is stopping.
  std::optional<std::chrono::milliseconds> retry_in;
};

struct LinkHandler {
  // A new session was made and its CONNECT queued, before the TLS handshake.
  // What the previous connection had in flight is gone. With early_budget
  // > 0 the ticket allows 0-RTT: publishing up to that many bytes here puts
  // them in the first flight.
  std::function<void(std::size_t early_budget)> on_session;
  std::function<void(const tls::HandshakeComplete&)> on_handshake;
  // The session's events (views valid only during the call). The link has
  // already noted kConnected (connected() is true) and flushes afterwards;
  // after kClosed it closes the connection.
  std::function<void(std::span<const mqtt::ClientEvent>)> on_events;
  // A connection or an attempt ended; called once per attempt.
  std::function<void(const LinkDown&)> on_down;
};

class ClientLink {
 public:
  ClientLink(asio::io_context& io, tls::TlsContext& tls, Clock& clock, Rng& rng, LinkOptions options,
             LinkHandler handler);
  ~ClientLink();
  ClientLink(const ClientLink&) = delete;
  ClientLink& operator=(const ClientLink&) = delete;

  // Starts connecting, and reconnecting after each end until stopped.
  void start();
  // No more attempts: cancels a back-off wait, a TCP connect under way or a
  // wait for a ConnectLimiter slot. A connection already made stays up
  // until disconnect() or until it ends.
  void stop_reconnecting();
  // Sends DISCONNECT if the session is connected, then closes TLS.
  void disconnect();
  // Both: the link finishes.
  void stop() {
    stop_reconnecting();
    disconnect();
  }
  // Started, stopped, and the last connection is gone: nothing running on
  // the io_context refers to the link any more.
  bool finished() const { return finished_ && deadline_loops_ == 0; }

  // The current connection's session (or the last one's); null before the first.
  mqtt::ClientSession* session() { return session_ ? &*session_ : nullptr; }
  // CONNACK accepted and the connection still up.
  bool connected() const { return connected_; }
  // Hands what the session queued to TLS and re-arms the timer if the
  // session's deadline moved earlier. Call after publishing outside a callback.
  void flush();
  // The session's clock (the injected Clock's monotonic time).
  mqtt::Time now() const;
  // "host:port" of the endpoint tried now, for logs.
  const std::string& where() const { return where_; }

 private:
  asio::awaitable<void> run();
  asio::awaitable<LinkDown> connect_once();
  asio::awaitable<void> deadline_loop(std::shared_ptr<asio::steady_timer> timer, std::uint64_t generation);
  // The connection of `generation` is still the current one, and open.
  bool live(std::uint64_t generation) const;
  void on_tls_event(tls::Event& e);
  void deliver(std::span<const mqtt::ClientEvent> events);
  void note_down(LinkDown down);
  void release_slot();
  const std::string& server_name() const { return options_.server_name.empty() ? options_.host : options_.server_name; }
  // The endpoint of the next attempt (0: host and port; then the alternates).
  const std::string& target_host() const { return target_ == 0 ? options_.host : options_.alternates[target_ - 1].first; }
  std::uint16_t target_port() const { return target_ == 0 ? options_.port : options_.alternates[target_ - 1].second; }

  asio::io_context& io_;
  tls::TlsContext& tls_;
  Clock& clock_;
  LinkOptions options_;
  LinkHandler handler_;
  Backoff backoff_;
  std::string where_;

  std::optional<mqtt::ClientSession> session_;
  std::shared_ptr<tls::Duplex> duplex_;
  std::optional<LinkDown> down_;  // the first reason the current connection ended
  std::uint64_t generation_ = 0;  // one per connection
  std::size_t target_ = 0;        // index into host/port + alternates
  bool connected_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool holds_slot_ = false;
  int deadline_loops_ = 0;  // deadline_loop coroutines not yet returned
  // What stop_reconnecting() cancels.
  asio::steady_timer retry_;
  asio::ip::tcp::resolver* resolving_ = nullptr;
  asio::ip::tcp::socket* connecting_ = nullptr;
  ConnectLimiter::Waiter* limiter_wait_ = nullptr;
  // The current connection's deadline timer and the time it is armed for.
  asio::steady_timer* deadline_timer_ = nullptr;
  mqtt::Time armed_for_ = mqtt::Time::max();
};

}  // namespace armored::mqtt_link
