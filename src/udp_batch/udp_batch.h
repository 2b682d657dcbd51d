#pragma once
// Batched UDP I/O for the device-to-gateway hop: recvmmsg/sendmmsg move up
// to kMaxBatch datagrams per system call, where one recvfrom/sendto per
// 76-byte reading made the syscalls the largest cost of the hop (both on
// the gateway and in the fleet simulator). Linux only; non-blocking sockets.
//
// Segmentation offload (UDP GSO/GRO, as QUIC stacks use it): a sender with
// many equal-sized datagrams for one address (the fleet simulator, a hub
// relaying many sensors) can hand the kernel one buffer per run of up to 64
// of them; a receiver that enabled GRO gets such a run as one buffer with
// the segment size attached, and splits it here. Either side works with a
// peer that does neither: the kernel segments for a receiver without GRO.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace armored::udp_batch {

inline constexpr std::size_t kMaxBatch = 256;
// Datagrams per GSO send (the kernel's limit is 64 or more, by version).
inline constexpr std::size_t kMaxSegments = 64;

// Asks the kernel to deliver runs of equal-sized datagrams from one sender
// as one buffer (UDP_GRO). False where the kernel has no UDP GRO.
bool enable_gro(int fd);

// Receives up to kMaxBatch datagrams of at most `max_size` bytes each.
// With `gro` (the socket has enable_gro()), a slot holds up to 64 KiB and a
// coalesced run is split back into its datagrams, so callers see datagrams
// either way (a receive may then return more than kMaxBatch of them).
class Receiver {
 public:
  explicit Receiver(std::size_t max_size, bool gro = false);
  // One recvmmsg on the non-blocking socket `fd`; returns how many
  // datagrams arrived (0 if none were waiting or on error).
  std::size_t receive(int fd);
  // Datagram i of the last receive (truncated datagrams are longer than max_size).
  ByteSpan data(std::size_t i) const;
  bool truncated(std::size_t i) const;
  const sockaddr_storage& from(std::size_t i) const { return addrs_[segs_[i].slot]; }
  socklen_t from_len(std::size_t i) const { return hdrs_[segs_[i].slot].msg_hdr.msg_namelen; }
  // Coalesced runs split by the last receive (0 without GRO).
  std::size_t coalesced() const { return coalesced_; }

 private:
  struct Segment {
    std::uint32_t slot, offset, size;
    bool truncated;
  };
  std::size_t max_size_;
  std::size_t slot_size_;  // max_size_ + 1, or 64 KiB with GRO
  std::size_t slots_;
  bool gro_;
  std::vector<std::uint8_t> buf_;
  std::vector<mmsghdr> hdrs_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<std::array<std::uint8_t, 64>> control_;
  std::vector<Segment> segs_;
  std::size_t coalesced_ = 0;
};

// Collects datagrams (copied) and sends them with sendmmsg. With `gso`,
// consecutive datagrams of equal size for the same address go out as one
// segmented send; if the kernel refuses that, the sender falls back to
// plain datagrams for good.
class Sender {
 public:
  explicit Sender(std::size_t max_size, bool gso = false);
  // Queues a copy of `data` to `to`; flushes first when the batch is full.
  // Returns false if the datagram is larger than max_size.
  bool add(int fd, ByteSpan data, const sockaddr* to, socklen_t to_len);
  // Sends what is queued; returns how many went out (the rest are dropped,
  // e.g. when the socket buffer is full: UDP senders retry on their own).
  std::size_t flush(int fd);
  std::size_t queued() const { return n_; }
  bool gso() const { return gso_; }

 private:
  std::size_t flush_plain(int fd, std::size_t from);
  std::size_t flush_segmented(int fd);
  std::size_t max_size_;
  bool gso_;
  std::size_t n_ = 0;
  std::array<mmsghdr, kMaxBatch> out_{};  // segmented sends
  std::array<std::size_t, kMaxBatch> out_count_{};
  std::array<std::array<std::uint8_t, 32>, kMaxBatch> control_{};
  std::vector<std::uint8_t> buf_;
  std::array<mmsghdr, kMaxBatch> hdrs_{};
  std::array<iovec, kMaxBatch> iov_{};
  std::array<sockaddr_storage, kMaxBatch> addrs_{};
};

}  // namespace armored::udp_batch
