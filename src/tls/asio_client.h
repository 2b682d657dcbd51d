#pragma once
// Client runner: connect over TCP, resume from the SessionStore when it
// holds a ticket for host:port (sending `early_data` as 0-RTT if allowed),
// run the handshake, and save new tickets as they arrive.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <string>

#include "tls/asio_stream.h"
#include "tls/session_store.h"

namespace armored::tls {

struct ConnectOptions {
  std::string host;        // name or IP to connect to and verify
  std::uint16_t port = 0;
  Bytes early_data;        // first application bytes (0-RTT when possible)
  SessionStore* sessions = nullptr;  // optional ticket store
  std::chrono::milliseconds handshake_timeout{10000};
};

// Returns an established stream, or the typed reason the connection failed.
asio::awaitable<Result<std::unique_ptr<TlsStream>, TlsError>> tls_connect(TlsContext& ctx,
                                                                          ConnectOptions opts);

// Saves tickets the stream has received since the last call (clients call
// this after reads, since TLS 1.3 tickets arrive after the handshake).
void save_tickets(TlsStream& stream, SessionStore* sessions, const std::string& host,
                  std::uint16_t port, Clock::TimePoint now);

}  // namespace armored::tls
