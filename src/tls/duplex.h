#pragma once
// Duplex: drives a sans-I/O Connection over a TCP socket with exactly one
// reader and one writer coroutine. Application code may queue data at any
// moment (from handlers, timers or storage completions) without two writes
// ever racing on the socket: it only wakes the writer.
//
// Single-threaded: every call must come from the socket's executor.

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

  // Starts the reader and writer (clients: with their first flight).
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

  Connection& connection() { return *conn_; }
  asio::ip::tcp::socket& socket() { return socket_; }
  const std::string& peer_address() const { return peer_; }

 private:
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  void wake();

  asio::ip::tcp::socket socket_;
  std::unique_ptr<Connection> conn_;
  Clock& clock_;
  asio::steady_timer wake_;
  EventHandler on_event_;
  std::string peer_;
  bool closed_ = false;
  bool reader_done_ = false;
  bool writer_done_ = false;
};

}  // namespace armored::tls
