#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "quickstart/quickstart.h"

namespace armored::quickstart {

namespace {

Expected<std::uint16_t> free_port(int type, const char* what) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("cannot open a ") + what + " socket: " + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(fd);
    return fail(std::string("no free ") + what + " port on 127.0.0.1: " + std::strerror(e));
  }
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

}  // namespace

Expected<std::uint16_t> free_tcp_port() { return free_port(SOCK_STREAM, "TCP"); }
Expected<std::uint16_t> free_udp_port() { return free_port(SOCK_DGRAM, "UDP"); }

}  // namespace armored::quickstart
