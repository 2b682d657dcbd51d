#pragma once
// Server runner: accept TCP connections, run each TLS handshake, and hand
// every verified connection (with the peer's identity) to the application.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>

#include "tls/asio_stream.h"

namespace armored::tls {

using ConnectionHandler = std::function<asio::awaitable<void>(TlsStream&)>;

struct ServeOptions {
  std::chrono::milliseconds handshake_timeout{10000};
  // Stops accepting after this many connections (0: no limit). For tests and
  // load loops that must end by themselves.
  std::size_t max_connections = 0;
};

// Accepts until the acceptor is closed (or max_connections reached). Each
// connection runs on its own coroutine; failed handshakes are counted in the
// context and dropped.
asio::awaitable<void> serve(asio::ip::tcp::acceptor& acceptor, TlsContext& ctx,
                            ConnectionHandler handler, ServeOptions opts = {});

}  // namespace armored::tls
