#pragma once
// The dashboard's HTTPS listener: TLS 1.3 with the cloud's certificate
// (tls::Duplex, the one socket driver), HTTP/1.1 keep-alive, on its own
// thread so a slow page never delays ingest. Connections, idle time and
// request sizes are bounded.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/result.h"
#include "config/http_listener.h"
#include "dashboard/dashboard.h"
#include "http/http.h"
#include "tls/config.h"

namespace armored::dashboard {

struct ServerOptions {
  config::HttpListener listen;
  tls::TlsConfig tls;  // the cloud's certificate and key; no client certificate is asked for
  Options dashboard;
  http::Limits limits;
  std::size_t max_connections = 64;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{60};
};

struct ServerCounters {
  std::atomic<std::uint64_t> connections{0}, refused_connections{0}, handshake_failures{0};
  std::atomic<std::uint64_t> requests{0}, unauthorized{0};
  std::array<std::atomic<std::uint64_t>, http::kRefusalCount> refused_requests{};
};

class Server {
 public:
  // Binds and starts serving on a thread of its own. `source` must outlive
  // the Server and is used on that thread only.
  static Expected<std::unique_ptr<Server>> start(ServerOptions options, Source& source, Clock& clock);
  ~Server();  // stops and joins
  std::uint16_t port() const;
  const ServerCounters& counters() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::dashboard
