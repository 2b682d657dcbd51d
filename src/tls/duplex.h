#pragma once
// Duplex: drives a sans-I/O Connection over a TCP socket with exactly one
// reader, one writer and one timer coroutine; the only code that pairs a
// socket with a Connection. Application code may queue data at any
// moment (from handlers, timers or storage completions) without two writes
// ever racing on the socket: it only wakes the writer.
//
// Single-threaded: every call must come from the socket's executor.
//
// Time: the Duplex is the one place that reads the Clock for its
// Connection. It passes clock.now() into start()/feed() and arms one
// steady_timer at the earliest of Connection::next_deadline() (the
// handshake limit) and the owner's own deadline (set_owner_timer: an MQTT
// session's keep-alive and retransmissions), re-armed after every feed,
// write and timer. Nothing polls.
//
// Back-pressure: the writer sends one batch of TLS output at a time; what
// the application queues meanwhile is encrypted into the Connection's output
// buffer and grows with it. Owners that may outpace the peer watch
// queued_output() and hold back.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>

#include "common/clock.h"
#include "tls/connection.h"

namespace armored::tls {

class Duplex : public std::enable_shared_from_this<Duplex> {
 public:
  // Called for every event in order; Failed and Closed end the connection.
  using EventHandler = std::function<void(Event& event)>;

  Duplex(asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn, Clock& clock);

  // Starts the reader, writer and timer (clients: with their first flight).
  void start(EventHandler on_event);
  // Queues application data (held until the handshake if needed).
  Result<void, TlsError> write(ByteSpan bytes);
  // Queues `bytes` in pieces within the connection's per-write limit
  // (tls::write_in_pieces); returns how many were queued.
  std::size_t write_some(ByteSpan bytes);
  // Sends close_notify and what is queued, then closes the socket.
  void close();
  bool closed() const { return closed_; }
  // Completes once the reader and writer have both finished.
  asio::awaitable<void> wait_finished();

  // Additions for owners with their own deadlines. All are optional; call
  // the setters before start().

  // The handshake must complete within `timeout` of start() or the
  // connection fails with Reason::kTimeout (a Failed event).
  void set_handshake_timeout(Clock::Duration timeout);
  // The owner's next deadline on the Clock::monotonic() scale (nullopt: none)
  // and what to do when it is due (called with the clock's monotonic time).
  // `next` is asked again after every event, write and timer; `on_due` must
  // move the owner's deadline past `monotonic_now` or end the connection.
  using DeadlineSource = std::function<std::optional<Clock::Duration>()>;
  using TimerHandler = std::function<void(Clock::Duration monotonic_now)>;
  void set_owner_timer(DeadlineSource next, TimerHandler on_due);
  // The owner's deadline moved earlier outside an event or write, or the
  // clock jumped (tests with ManualClock): re-read the deadlines now.
  void reschedule();
  // TLS bytes encrypted but not yet handed to the socket, plus the batch
  // being written now.
  std::size_t queued_output() const;

  Connection& connection() { return *conn_; }
  asio::ip::tcp::socket& socket() { return socket_; }
  const std::string& peer_address() const { return peer_; }

 private:
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> timer();
  void wake();
  void deliver(std::vector<Event>& events);
  void rearm_if_earlier();
  std::optional<Clock::Duration> earliest_deadline() const;
  void finish_one();

  asio::ip::tcp::socket socket_;
  std::unique_ptr<Connection> conn_;
  Clock& clock_;
  asio::steady_timer wake_;
  asio::steady_timer deadline_;  // armed at earliest_deadline()
  asio::steady_timer finished_;  // cancelled once all three coroutines ended
  EventHandler on_event_;
  DeadlineSource owner_next_;
  TimerHandler owner_due_;
  std::optional<Clock::Duration> handshake_timeout_;
  std::optional<Clock::Duration> armed_for_;  // monotonic time deadline_ waits for
  std::size_t in_flight_ = 0;                 // bytes of the batch being written
  std::string peer_;
  bool closed_ = false;
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool timer_done_ = false;
};

}  // namespace armored::tls
