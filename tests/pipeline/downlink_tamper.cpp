#include "downlink_tamper.h"
#include "udp_loopback.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

#include "e3/wire.h"
#include "link/link.h"

namespace armored::pipeline_test {

DownlinkTamper::DownlinkTamper(int gateway_port) {
  int unused = 0;
  front_ = bind_udp_loopback(0, port_);
  back_ = bind_udp_loopback(0, unused);
  gateway_.sin_family = AF_INET;
  gateway_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  gateway_.sin_port = htons(static_cast<std::uint16_t>(gateway_port));
  thread_ = std::thread([this] { loop(); });
}

DownlinkTamper::~DownlinkTamper() {
  stop_ = true;
  thread_.join();
  ::close(front_);
  ::close(back_);
}

std::size_t DownlinkTamper::release_held() {
  std::lock_guard lk(mu_);
  for (const auto& [d, to] : held_) {
    ::sendto(front_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  const std::size_t n = held_.size();
  held_.clear();
  return n;
}

void DownlinkTamper::loop() {
  std::array<std::uint8_t, 2048> buf{};
  while (!stop_) {
    pollfd fds[2] = {{front_, POLLIN, 0}, {back_, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = ::recvfrom(front_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) {
        ByteSpan d(buf.data(), static_cast<std::size_t>(n));
        if (auto h = e3::parse_header(d)) {
          std::lock_guard lk(mu_);
          devices_[Bytes(h->kid.begin(), h->kid.end())] = from;
          if (headers_.size() > 100000) headers_.clear();
          headers_[Bytes(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(h->header_size))] = from;
        }
        ::sendto(back_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&gateway_), sizeof gateway_);
      }
    }
    if (fds[1].revents & POLLIN) {
      auto n = ::recv(back_, buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      Bytes d(buf.begin(), buf.begin() + n);
      std::lock_guard lk(mu_);
      // An answer echoes the header of the message it answers. The gateway
      // sees every device at this proxy's one address, so it packs their
      // answers: each goes back to its own device in the single form.
      std::array<link::Answer, link::kMaxAnswersPerDatagram> answers{};
      if (auto count = link::parse_answers(d, answers)) {
        for (std::size_t k = 0; k < *count; ++k) {
          auto to = headers_.find(Bytes(answers[k].header_bytes.begin(), answers[k].header_bytes.end()));
          if (to == headers_.end()) continue;
          std::array<std::uint8_t, 1 + e3::kMaxHeaderSize> one{};
          const std::size_t len = link::write_answer(answers[k].kind, answers[k].header_bytes, one);
          ::sendto(front_, one.data(), len, 0, reinterpret_cast<const sockaddr*>(&to->second), sizeof to->second);
        }
        continue;
      }
      auto h = e3::parse_header(d);
      if (!h) continue;
      auto to = devices_.find(Bytes(h->kid.begin(), h->kid.end()));
      if (to == devices_.end()) continue;
      auto send = [&](const Bytes& b) {
        ::sendto(front_, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&to->second), sizeof to->second);
      };
      ++downlinks_;
      switch (mode_.load()) {
        case Mode::kPass: send(d); break;
        case Mode::kReplay: send(d); send(d); break;
        case Mode::kFlipByte: d[d.size() - 5] ^= 0x01; send(d); break;  // inside the ciphertext/tag
        case Mode::kHold: held_.emplace_back(d, to->second); break;
      }
    }
  }
}

}  // namespace armored::pipeline_test
