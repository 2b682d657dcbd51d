#include "udp_batch/udp_batch.h"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

namespace armored::udp_batch {
namespace {

// A GSO send carries at most this many payload bytes (one UDP datagram's
// worth before segmentation).
constexpr std::size_t kMaxGsoBytes = 65000;

// The kernel reports a refused segmented send with one of these.
bool gso_refused(int err) { return err == EIO || err == EINVAL || err == ENOPROTOOPT || err == EOPNOTSUPP; }

}  // namespace

bool enable_gro(int fd) {
  int one = 1;
  return ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) == 0;
}

Receiver::Receiver(std::size_t max_size, bool gro)
    : max_size_(max_size), slot_size_(gro ? 65536 : max_size + 1), slots_(gro ? 64 : kMaxBatch), gro_(gro),
      buf_(slots_ * slot_size_), hdrs_(slots_), iov_(slots_), addrs_(slots_), control_(slots_) {
  for (std::size_t i = 0; i < slots_; ++i) {
    // One spare byte per slot: a datagram that fills it was too long.
    iov_[i] = {buf_.data() + i * slot_size_, slot_size_};
  }
  segs_.reserve(slots_);
}

std::size_t Receiver::receive(int fd) {
  for (std::size_t i = 0; i < slots_; ++i) {
    hdrs_[i].msg_hdr = {};
    hdrs_[i].msg_hdr.msg_iov = &iov_[i];
    hdrs_[i].msg_hdr.msg_iovlen = 1;
    hdrs_[i].msg_hdr.msg_name = &addrs_[i];
    hdrs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    if (gro_) {
      hdrs_[i].msg_hdr.msg_control = control_[i].data();
      hdrs_[i].msg_hdr.msg_controllen = control_[i].size();
    }
    hdrs_[i].msg_len = 0;
  }
  segs_.clear();
  coalesced_ = 0;
  int n = ::recvmmsg(fd, hdrs_.data(), static_cast<unsigned>(slots_), MSG_DONTWAIT, nullptr);
  for (int k = 0; k < n; ++k) {
    const auto i = static_cast<std::size_t>(k);
    const msghdr& h = hdrs_[i].msg_hdr;
    const std::size_t len = hdrs_[i].msg_len;
    const bool cut = (h.msg_flags & MSG_TRUNC) != 0;
    std::size_t seg = 0;
    if (gro_) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int v = 0;
          std::memcpy(&v, CMSG_DATA(c), sizeof v);
          if (v > 0) seg = static_cast<std::size_t>(v);
        }
      }
    }
    if (seg > 0 && seg < len && !cut) {
      ++coalesced_;
      for (std::size_t off = 0; off < len; off += seg) {
        const std::size_t size = std::min(seg, len - off);
        segs_.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(off),
                         static_cast<std::uint32_t>(size), size > max_size_});
      }
    } else {
      segs_.push_back({static_cast<std::uint32_t>(i), 0, static_cast<std::uint32_t>(std::min(len, slot_size_)),
                       cut || len > max_size_});
    }
  }
  return segs_.size();
}

ByteSpan Receiver::data(std::size_t i) const {
  const Segment& s = segs_[i];
  return ByteSpan(static_cast<const std::uint8_t*>(iov_[s.slot].iov_base) + s.offset, s.size);
}

bool Receiver::truncated(std::size_t i) const { return segs_[i].truncated; }

Sender::Sender(std::size_t max_size, bool gso)
    : max_size_(max_size), gso_(gso), buf_(kMaxBatch * max_size) {}

bool Sender::add(int fd, ByteSpan data, const sockaddr* to, socklen_t to_len) {
  if (data.size() > max_size_ || to_len > sizeof(sockaddr_storage)) return false;
  if (n_ == kMaxBatch) flush(fd);
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

std::size_t Sender::flush(int fd) {
  const std::size_t sent = gso_ ? flush_segmented(fd) : flush_plain(fd, 0);
  n_ = 0;
  return sent;
}

std::size_t Sender::flush_plain(int fd, std::size_t from) {
  std::size_t sent = 0;
  while (from + sent < n_) {
    int r = ::sendmmsg(fd, hdrs_.data() + from + sent, static_cast<unsigned>(n_ - from - sent), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN (buffer full) or a real error: the rest is dropped
    }
    if (r == 0) break;
    sent += static_cast<std::size_t>(r);
  }
  return sent;
}

std::size_t Sender::flush_segmented(int fd) {
  // Group runs: same size, same address, at most kMaxSegments and 65,000 bytes.
  std::size_t m = 0;
  std::array<std::size_t, kMaxBatch> first{};
  for (std::size_t i = 0; i < n_;) {
    const std::size_t size = iov_[i].iov_len;
    const msghdr& hi = hdrs_[i].msg_hdr;
    std::size_t j = i + 1;
    while (j < n_ && j - i < kMaxSegments && (j - i + 1) * size <= kMaxGsoBytes && iov_[j].iov_len == size &&
           hdrs_[j].msg_hdr.msg_namelen == hi.msg_namelen && std::memcmp(&addrs_[j], &addrs_[i], hi.msg_namelen) == 0) {
      ++j;
    }
    mmsghdr& o = out_[m];
    o.msg_hdr = hi;
    o.msg_hdr.msg_iovlen = j - i;
    o.msg_len = 0;
    if (j - i > 1) {
      o.msg_hdr.msg_control = control_[m].data();
      o.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&o.msg_hdr);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto seg = static_cast<std::uint16_t>(size);
      std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
    first[m] = i;
    out_count_[m] = j - i;
    ++m;
    i = j;
  }
  std::size_t done = 0, sent = 0;
  while (done < m) {
    int r = ::sendmmsg(fd, out_.data() + done, static_cast<unsigned>(m - done), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (gso_refused(errno) && out_count_[done] > 1) {
        // No GSO here (or not for this socket): plain datagrams from now on.
        gso_ = false;
        return sent + flush_plain(fd, first[done]);
      }
      break;  // EAGAIN (buffer full) or a real error: the rest is dropped
    }
    if (r == 0) break;
    for (int k = 0; k < r; ++k) sent += out_count_[done + static_cast<std::size_t>(k)];
    done += static_cast<std::size_t>(r);
  }
  return sent;
}

}  // namespace armored::udp_batch
