#pragma once
// Runs our asio TLS server (tls::serve) on 127.0.0.1:<ephemeral> in a
// background thread; the handler echoes "echo:" + the first chunk and
// records what it saw. Stopped and joined by the destructor.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tls/asio_server.h"

namespace armored::testing {

struct SeenConnection {
  tls::HandshakeComplete handshake;
  std::string data;
  bool data_was_early = false;
};

class ServerThread {
 public:
  explicit ServerThread(tls::TlsContext& ctx);
  ~ServerThread();
  std::uint16_t port() const { return port_; }
  // Waits until `n` connections reached the handler (or timeout).
  std::vector<SeenConnection> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
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
