#pragma once
// A TLS connection bound to a TCP socket on standalone Asio with C++20
// coroutines. It only moves bytes between the socket and the sans-I/O
// Connection; all TLS logic stays in Connection.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "tls/connection.h"

namespace armored::tls {

class TlsStream {
 public:
  TlsStream(asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn);

  // Runs the handshake to completion (or failure) within `timeout`.
  asio::awaitable<Result<HandshakeComplete, TlsError>> handshake(std::chrono::milliseconds timeout);
  // Next chunk of application data (0-RTT chunks are marked). A clean close
  // yields an empty chunk; failures yield the typed error.
  asio::awaitable<Result<ApplicationData, TlsError>> read();
  // Encrypts and sends `bytes` (queued until the handshake if called early).
  asio::awaitable<Result<void, TlsError>> write(ByteSpan bytes);
  // Clients: processes incoming records until a session ticket arrived or
  // `timeout` passed (TLS 1.3 tickets follow the handshake). True if one did.
  asio::awaitable<bool> wait_for_ticket(std::chrono::milliseconds timeout);
  // Sends close_notify and closes the socket.
  asio::awaitable<void> close();

  // Tickets received so far (clients), for a SessionStore.
  std::vector<NewSessionTicket> take_tickets();
  const std::optional<HandshakeComplete>& handshake_info() const { return handshake_; }
  asio::ip::tcp::socket& socket() { return socket_; }
  Connection& connection() { return *conn_; }

 private:
  asio::awaitable<Result<void, TlsError>> flush();
  asio::awaitable<Result<void, TlsError>> receive_once();
  // Sorts events into the queues; returns the first failure.
  std::optional<TlsError> absorb(std::vector<Event> events);

  asio::ip::tcp::socket socket_;
  std::unique_ptr<Connection> conn_;
  std::optional<HandshakeComplete> handshake_;
  std::deque<ApplicationData> inbox_;
  std::vector<NewSessionTicket> tickets_;
  bool peer_closed_ = false;
  std::optional<TlsError> error_;
};

}  // namespace armored::tls
