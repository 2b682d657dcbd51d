#pragma once
// Batched UDP I/O for the device-to-gateway hop: recvmmsg/sendmmsg move up
// to kUdpBatch datagrams per system call, where one recvfrom/sendto per
// 76-byte reading made the syscalls the largest cost of the hop (both on
// the gateway and in the fleet simulator). Linux only; non-blocking sockets.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace armored::gateway {

inline constexpr std::size_t kUdpBatch = 256;

// Receives up to kUdpBatch datagrams of at most `max_size` bytes each.
class UdpBatchReceiver {
 public:
  explicit UdpBatchReceiver(std::size_t max_size);
  // One recvmmsg on the non-blocking socket `fd`; returns how many
  // datagrams arrived (0 if none were waiting or on error).
  std::size_t receive(int fd);
  // Datagram i of the last receive (truncated datagrams are longer than max_size).
  ByteSpan data(std::size_t i) const;
  bool truncated(std::size_t i) const;
  const sockaddr_storage& from(std::size_t i) const { return addrs_[i]; }
  socklen_t from_len(std::size_t i) const { return hdrs_[i].msg_hdr.msg_namelen; }

 private:
  std::size_t max_size_;
  std::vector<std::uint8_t> buf_;  // kUdpBatch slots of max_size_ + 1 bytes
  std::array<mmsghdr, kUdpBatch> hdrs_{};
  std::array<iovec, kUdpBatch> iov_{};
  std::array<sockaddr_storage, kUdpBatch> addrs_{};
};

// Collects datagrams (copied) and sends them with sendmmsg.
class UdpBatchSender {
 public:
  explicit UdpBatchSender(std::size_t max_size);
  // Queues a copy of `data` to `to`; flushes first when the batch is full.
  // Returns false if the datagram is larger than max_size.
  bool add(int fd, ByteSpan data, const sockaddr* to, socklen_t to_len);
  // Sends what is queued; returns how many went out (the rest are dropped,
  // e.g. when the socket buffer is full: UDP senders retry on their own).
  std::size_t flush(int fd);
  std::size_t queued() const { return n_; }

 private:
  std::size_t max_size_;
  std::size_t n_ = 0;
  std::vector<std::uint8_t> buf_;
  std::array<mmsghdr, kUdpBatch> hdrs_{};
  std::array<iovec, kUdpBatch> iov_{};
  std::array<sockaddr_storage, kUdpBatch> addrs_{};
};

}  // namespace armored::gateway
