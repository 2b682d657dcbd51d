#pragma once
// Minimal blocking-with-deadline TCP for the network audits: every step
// (resolve, connect, send, receive) ends by its deadline.

#include <chrono>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::audit {

using Deadline = std::chrono::steady_clock::time_point;

// Owns a socket descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Connects to host:port (IPv4 or IPv6, first address that answers); the
// socket is left non-blocking. Errors name the step that failed.
Expected<Socket> connect_tcp(const std::string& host, std::uint16_t port, Deadline deadline);

// Waits until fd is readable (want_write false) or writable; false on timeout.
bool wait_fd(int fd, bool want_write, Deadline deadline);

// Sends all bytes or fails by the deadline.
Status send_all(const Socket& s, ByteSpan data, Deadline deadline);

// Receives at most `max` bytes, at least one, by the deadline; an empty
// result means the peer closed.
Expected<Bytes> recv_some(const Socket& s, std::size_t max, Deadline deadline);

}  // namespace armored::audit
