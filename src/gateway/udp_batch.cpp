#include "gateway/udp_batch.h"

#include <cerrno>
#include <cstring>

namespace armored::gateway {

UdpBatchReceiver::UdpBatchReceiver(std::size_t max_size) : max_size_(max_size), buf_(kUdpBatch * (max_size + 1)) {
  for (std::size_t i = 0; i < kUdpBatch; ++i) {
    // One spare byte per slot: a datagram that fills it was too long.
    iov_[i] = {buf_.data() + i * (max_size_ + 1), max_size_ + 1};
  }
}

std::size_t UdpBatchReceiver::receive(int fd) {
  for (std::size_t i = 0; i < kUdpBatch; ++i) {
    hdrs_[i].msg_hdr = {};
    hdrs_[i].msg_hdr.msg_iov = &iov_[i];
    hdrs_[i].msg_hdr.msg_iovlen = 1;
    hdrs_[i].msg_hdr.msg_name = &addrs_[i];
    hdrs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    hdrs_[i].msg_len = 0;
  }
  int n = ::recvmmsg(fd, hdrs_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

ByteSpan UdpBatchReceiver::data(std::size_t i) const {
  return ByteSpan(static_cast<const std::uint8_t*>(iov_[i].iov_base), hdrs_[i].msg_len);
}

bool UdpBatchReceiver::truncated(std::size_t i) const {
  return hdrs_[i].msg_len > max_size_ || (hdrs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

UdpBatchSender::UdpBatchSender(std::size_t max_size) : max_size_(max_size), buf_(kUdpBatch * max_size) {}

bool UdpBatchSender::add(int fd, ByteSpan data, const sockaddr* to, socklen_t to_len) {
  if (data.size() > max_size_ || to_len > sizeof(sockaddr_storage)) return false;
  if (n_ == kUdpBatch) flush(fd);
  std::uint8_t* slot = buf_.data() + n_ * max_size_;
  std::memcpy(slot, data.data(), data.size());
  std::memcpy(&addrs_[n_], to, to_len);
  iov_[n_] = {slot, data.size()};
  hdrs_[n_].msg_hdr = {};
  hdrs_[n_].msg_hdr.msg_iov = &iov_[n_];
  hdrs_[n_].msg_hdr.msg_iovlen = 1;
  hdrs_[n_].msg_hdr.msg_name = &addrs_[n_];
  hdrs_[n_].msg_hdr.msg_namelen = to_len;
  ++n_;
  return true;
}

std::size_t UdpBatchSender::flush(int fd) {
  std::size_t sent = 0;
  while (sent < n_) {
    int r = ::sendmmsg(fd, hdrs_.data() + sent, static_cast<unsigned>(n_ - sent), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN (buffer full) or a real error: the rest is dropped
    }
    if (r == 0) break;
    sent += static_cast<std::size_t>(r);
  }
  n_ = 0;
  return sent;
}

}  // namespace armored::gateway
