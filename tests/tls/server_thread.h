#pragma once
// Runs a TLS server on 127.0.0.1:<ephemeral> in a background thread, one
// tls::Duplex per accepted connection: it answers the first chunk of
// application data with "echo:" + the chunk, records what it saw, and
// closes. Failed handshakes are counted in the context and dropped. Stopped
// and joined by the destructor.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tls/duplex.h"

namespace armored::testing {

struct SeenConnection {
  tls::HandshakeComplete handshake;
  std::string data;
  bool data_was_early = false;
};

struct ServeOptions {
  std::chrono::milliseconds handshake_timeout{10000};
  // Stops accepting after this many connections (0: no limit).
  std::size_t max_connections = 0;
};

class ServerThread {
 public:
  explicit ServerThread(tls::TlsContext& ctx, ServeOptions opts = {});
  ~ServerThread();
  std::uint16_t port() const { return port_; }
  // Waits until `n` connections reached the handler (or timeout).
  std::vector<SeenConnection> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  asio::awaitable<void> accept_loop(tls::TlsContext& ctx, ServeOptions opts);
  void record(SeenConnection seen);

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SeenConnection> seen_;
};

// Polls `pred` until true or timeout.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace armored::testing
