#include "envelope_capture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>

#include "common/hex.h"
#include "link/link.h"

namespace armored::pipeline_test {

EnvelopeCapture::EnvelopeCapture() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  timeval tv{0, 100000};  // the loop checks stop_ ten times a second
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  thread_ = std::thread([this] { loop(); });
}

EnvelopeCapture::~EnvelopeCapture() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void EnvelopeCapture::loop() {
  std::array<std::uint8_t, link::kMaxDatagram> buf{};
  std::array<std::uint8_t, 1 + e3::kMaxHeaderSize> answer{};
  while (!stop_) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    auto n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    ByteSpan d(buf.data(), static_cast<std::size_t>(n));
    auto msg = link::classify_datagram(d);
    if (!msg) continue;
    auto size = link::write_answer(link::kAckSpooled, msg->header_bytes, answer);
    ::sendto(fd_, answer.data(), size, 0, reinterpret_cast<sockaddr*>(&from), len);
    std::lock_guard lock(mu_);
    Bytes copy(d.begin(), d.end());
    if (std::find(seen_.begin(), seen_.end(), copy) == seen_.end()) seen_.push_back(std::move(copy));
  }
}

std::map<std::string, Captured> EnvelopeCapture::by_device() {
  std::lock_guard lock(mu_);
  std::map<std::string, std::vector<std::pair<std::uint64_t, Bytes>>> ups;
  std::map<std::string, Captured> out;
  for (const auto& m : seen_) {
    auto h = e3::parse_header(m);
    if (!h) continue;
    const std::string kid = to_hex(h->kid);
    if (h->type == e3::MessageType::kAnnouncement) {
      out[kid].announcement = m;
    } else if (h->type == e3::MessageType::kUplink) {
      ups[kid].emplace_back(h->sequence, m);
    }
  }
  for (auto& [kid, list] : ups) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [seq, m] : list) out[kid].uplinks.push_back(m);
  }
  return out;
}

void write_bytes(const std::string& path, ByteSpan bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace armored::pipeline_test
