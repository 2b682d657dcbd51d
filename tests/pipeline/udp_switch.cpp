#include "udp_switch.h"
#include "udp_loopback.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

namespace armored::pipeline_test {

UdpSwitch::UdpSwitch(int gateway_port) : target_port_(gateway_port) {
  int unused = 0;
  front_ = bind_udp_loopback(0, port_, 4 << 20);
  back_ = bind_udp_loopback(0, unused, 4 << 20);
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
