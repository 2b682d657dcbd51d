#pragma once
// A test and bench client over tls::Duplex, for code that reads best as one
// coroutine (connect, handshake, write, read the reply, close): it collects
// the Duplex's events and lets the coroutine wait for the ones it needs.
// The product's own clients handle Duplex events directly.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tls/duplex.h"
#include "tls/session_store.h"

namespace armored::testing {

struct ConnectOptions {
  std::string host;  // name or IP to connect to and verify
  std::uint16_t port = 0;
  Bytes early_data;  // first application bytes (0-RTT when the stored ticket allows)
  tls::SessionStore* sessions = nullptr;  // optional ticket store
  std::chrono::milliseconds handshake_timeout{10000};
};

class ClientLink {
 public:
  // Resolves and connects host:port, resumes from opts.sessions when it holds
  // a ticket, and runs the handshake. A failed handshake forgets the stored
  // ticket; a transport that ends the handshake is counted in the context.
  static asio::awaitable<Result<std::unique_ptr<ClientLink>, tls::TlsError>> connect(tls::TlsContext& ctx,
                                                                                      ConnectOptions opts);
  // The same over an already connected socket.
  static asio::awaitable<Result<std::unique_ptr<ClientLink>, tls::TlsError>> handshake(
      asio::ip::tcp::socket socket, tls::TlsContext& ctx, const tls::ClientOptions& options,
      std::chrono::milliseconds timeout);
  ~ClientLink();

  const tls::HandshakeComplete& handshake_info() const;
  // Queues bytes; the Duplex sends them.
  Result<void, tls::TlsError> write(ByteSpan bytes);
  // Next chunk of application data; an empty chunk once the peer closed.
  asio::awaitable<Result<tls::ApplicationData, tls::TlsError>> read();
  // True once a session ticket arrived (TLS 1.3 sends them after the handshake).
  asio::awaitable<bool> wait_for_ticket(std::chrono::milliseconds timeout);
  std::vector<tls::NewSessionTicket> take_tickets();
  // Saves the newest ticket received so far to `sessions` for host:port.
  void save_tickets(tls::SessionStore* sessions, const std::string& host, std::uint16_t port);
  // Sends what is queued and close_notify; returns once the socket is closed.
  asio::awaitable<void> close();

  struct State;

 private:
  explicit ClientLink(std::shared_ptr<State> state);
  std::shared_ptr<State> st_;
};

}  // namespace armored::testing
