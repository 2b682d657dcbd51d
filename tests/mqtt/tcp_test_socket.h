#pragma once
// Plain TCP on 127.0.0.1 for the MQTT interop tests. The library is sans-I/O;
// these sockets belong to the test code only (TLS is a separate layer).

#include <chrono>
#include <optional>

#include "common/bytes.h"

namespace armored::mqtt::test {

class TcpSocket {
 public:
  TcpSocket() = default;
  explicit TcpSocket(int fd) : fd_(fd) {}
  ~TcpSocket();
  TcpSocket(TcpSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  TcpSocket& operator=(TcpSocket&& o) noexcept;

  // Connects to 127.0.0.1:port; an invalid socket on failure.
  static TcpSocket connect_loopback(int port);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Writes everything (blocking); false if the peer is gone.
  bool send_all(ByteSpan data);
  // Waits up to `timeout` for bytes. nullopt: timeout; empty: peer closed.
  std::optional<Bytes> receive(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
};

class TcpListener {
 public:
  // Listens on 127.0.0.1 with a kernel-chosen port.
  TcpListener();
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  int port() const { return port_; }
  int fd() const { return fd_; }
  // Accepts one pending connection, if any (non-blocking).
  std::optional<TcpSocket> accept_pending();

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace armored::mqtt::test
