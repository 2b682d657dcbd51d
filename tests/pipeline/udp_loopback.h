#pragma once
// A UDP socket bound to 127.0.0.1 for the test's own hops between the fleet
// and a gateway (downlink_tamper.h, udp_switch.h).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <stdexcept>

namespace armored::pipeline_test {

// Binds to `port` (0: any free one), stores the port bound in out_port;
// `buffer_bytes` > 0 also sizes the socket buffers. Throws on failure.
inline int bind_udp_loopback(int port, int& out_port, int buffer_bytes = 0) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  out_port = ntohs(a.sin_port);
  if (buffer_bytes > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  return fd;
}

}  // namespace armored::pipeline_test
