#pragma once
// The cloud's local admin socket: a Unix domain stream socket, owner-only
// (mode 0600, peers with another uid refused), never a network port. It only
// moves bytes between the socket and AdminSession; requests are handled on
// the io_context's thread, the cloud's network thread.

#include <asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cloud/admin_protocol.h"
#include "common/result.h"

namespace armored::cloud {

struct AdminSocketOptions {
  std::filesystem::path path;
  AdminLimits limits;
  std::chrono::milliseconds idle_timeout{10000};  // a connection idle this long is closed
  std::size_t max_connections = 16;
};

class AdminServer {
 public:
  // Binds the socket. Refuses a path that exists and is not a stale socket
  // (a regular file, a directory, or a socket someone still listens on); a
  // stale socket left by a crash is removed. Creates a missing parent
  // directory with mode 0700.
  static Expected<std::unique_ptr<AdminServer>> open(asio::io_context& io, AdminSocketOptions options,
                                                     AdminHandler handler);
  ~AdminServer();

  void start();  // accepts connections until close()
  void close();  // stops accepting, closes connections, removes the socket file
  const AdminCounters& counters() const;
  std::uint64_t refused_peers() const;  // connections from another uid

  struct Impl;

 private:
  explicit AdminServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Client: sends one request and waits for its response (the CLI). Fails
// if the socket cannot be reached or the response is malformed or late.
Expected<nlohmann::json> admin_call(const std::filesystem::path& socket, const nlohmann::json& request,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace armored::cloud
