#include "udp_switch.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

namespace armored::pipeline_test {
namespace {
int bind_loopback(int& out_port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  out_port = ntohs(a.sin_port);
  int buf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  return fd;
}
}  // namespace

UdpSwitch::UdpSwitch(int gateway_port) : target_port_(gateway_port) {
  int unused = 0;
  front_ = bind_loopback(port_);
  back_ = bind_loopback(unused);
  thread_ = std::thread([this] { loop(); });
}

UdpSwitch::~UdpSwitch() {
  stop_ = true;
  thread_.join();
  ::close(front_);
  ::close(back_);
}

void UdpSwitch::loop() {
  std::array<std::uint8_t, 65536> buf{};
  while (!stop_) {
    pollfd fds[2] = {{front_, POLLIN, 0}, {back_, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = ::recvfrom(front_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) {
        fleet_ = from;
        have_fleet_ = true;
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(static_cast<std::uint16_t>(target_port_.load()));
        ::sendto(back_, buf.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      }
    }
    if (fds[1].revents & POLLIN) {
      auto n = ::recv(back_, buf.data(), buf.size(), 0);
      if (n > 0 && have_fleet_) {
        ::sendto(front_, buf.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const sockaddr*>(&fleet_),
                 sizeof fleet_);
      }
    }
  }
}

}  // namespace armored::pipeline_test
