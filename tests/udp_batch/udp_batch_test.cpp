// udp_batch::Sender / Receiver over real loopback sockets: everything
// sent in batches arrives intact with its sender's address, an oversized
// datagram is flagged as truncated, and the sender refuses what it cannot hold.

#include "udp_batch/udp_batch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <vector>

namespace armored::udp_batch {
namespace {

struct Socket {
  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    int big = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~Socket() { ::close(fd); }
  int fd = -1;
  sockaddr_in addr{};
};

std::size_t receive_all(Receiver& rx, int fd, std::size_t want, std::vector<Bytes>& got,
                        std::vector<std::uint16_t>& ports) {
  for (int spins = 0; got.size() < want && spins < 200; ++spins) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 10);
    const std::size_t n = rx.receive(fd);
    for (std::size_t i = 0; i < n; ++i) {
      auto d = rx.data(i);
      got.emplace_back(d.begin(), d.end());
      ports.push_back(ntohs(reinterpret_cast<const sockaddr_in&>(rx.from(i)).sin_port));
    }
  }
  return got.size();
}

TEST(UdpBatch, SixHundredDatagramsArriveIntactWithTheSendersAddress) {
  Socket a, b;
  Sender tx(128);
  for (std::uint32_t i = 0; i < 600; ++i) {
    Bytes m(20 + i % 100, static_cast<std::uint8_t>(i));
    m[0] = static_cast<std::uint8_t>(i >> 8);
    ASSERT_TRUE(tx.add(a.fd, m, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
    EXPECT_LE(tx.queued(), kMaxBatch);  // full batches went out on their own
  }
  EXPECT_EQ(tx.flush(a.fd), 600 % kMaxBatch);
  EXPECT_EQ(tx.queued(), 0u);

  Receiver rx(128);
  std::vector<Bytes> got;
  std::vector<std::uint16_t> ports;
  ASSERT_EQ(receive_all(rx, b.fd, 600, got, ports), 600u);
  for (std::uint32_t i = 0; i < 600; ++i) {
    ASSERT_EQ(got[i].size(), 20 + i % 100) << i;
    EXPECT_EQ(got[i][0], static_cast<std::uint8_t>(i >> 8));
    EXPECT_EQ(got[i].back(), static_cast<std::uint8_t>(i));
    EXPECT_EQ(ports[i], ntohs(a.addr.sin_port));
  }
}

TEST(UdpBatch, OversizedDatagramIsFlaggedTruncatedAndSenderRefusesOversize) {
  Socket a, b;
  Sender tx(512);
  Bytes big(300, 0xAB);
  ASSERT_TRUE(tx.add(a.fd, big, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
  Bytes small(10, 0x01);
  ASSERT_TRUE(tx.add(a.fd, small, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
  EXPECT_EQ(tx.flush(a.fd), 2u);
  Sender tiny(16);
  EXPECT_FALSE(tiny.add(a.fd, big, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));

  Receiver rx(100);  // smaller than the first datagram
  std::vector<Bytes> got;
  std::vector<std::uint16_t> ports;
  ASSERT_EQ(receive_all(rx, b.fd, 2, got, ports), 2u);
  EXPECT_EQ(got[0].size(), 101u);  // max_size + the one spare byte that shows it was too long
  EXPECT_EQ(got[1], small);
  // The last receive held only the second datagram if they came apart; check the flag on a fresh pair.
  ASSERT_TRUE(tx.add(a.fd, big, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
  EXPECT_EQ(tx.flush(a.fd), 1u);
  pollfd p{b.fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  ASSERT_EQ(rx.receive(b.fd), 1u);
  EXPECT_TRUE(rx.truncated(0));
}

// Runs of equal sizes (as a fleet's sealed readings are), a second receiver
// interleaved, and a lone odd size: what arrives is the same datagrams in the
// same order, whether the receiver takes coalesced runs (GRO) or not.
void segmented_round_trip(bool gro) {
  Socket a, b, c;
  if (gro) {
    ASSERT_TRUE(enable_gro(b.fd));
  }
  Sender tx(256, true);
  std::vector<Bytes> to_b, to_c;
  for (std::uint32_t i = 0; i < 700; ++i) {
    const std::size_t size = i % 97 == 0 ? 33 : 60 + (i / 100);  // runs of 100, an odd one now and then
    Bytes m(size, static_cast<std::uint8_t>(i));
    m[0] = static_cast<std::uint8_t>(i >> 8);
    const bool for_c = i % 50 == 7;
    const Socket& dst = for_c ? c : b;
    ASSERT_TRUE(tx.add(a.fd, m, reinterpret_cast<const sockaddr*>(&dst.addr), sizeof dst.addr));
    (for_c ? to_c : to_b).push_back(m);
  }
  tx.flush(a.fd);
  EXPECT_TRUE(tx.gso()) << "this kernel refused UDP_SEGMENT";

  Receiver rx(256, gro);
  std::vector<Bytes> got;
  std::vector<std::uint16_t> ports;
  std::size_t coalesced = 0;
  for (int spins = 0; got.size() < to_b.size() && spins < 200; ++spins) {
    pollfd p{b.fd, POLLIN, 0};
    ::poll(&p, 1, 10);
    const std::size_t n = rx.receive(b.fd);
    coalesced += rx.coalesced();
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_FALSE(rx.truncated(i));
      auto d = rx.data(i);
      got.emplace_back(d.begin(), d.end());
      ports.push_back(ntohs(reinterpret_cast<const sockaddr_in&>(rx.from(i)).sin_port));
    }
  }
  ASSERT_EQ(got, to_b);
  for (auto port : ports) EXPECT_EQ(port, ntohs(a.addr.sin_port));
  if (gro) EXPECT_GT(coalesced, 0u) << "no run arrived coalesced";
  else EXPECT_EQ(coalesced, 0u);

  Receiver rc(256);
  std::vector<Bytes> got_c;
  ASSERT_EQ(receive_all(rc, c.fd, to_c.size(), got_c, ports), to_c.size());
  EXPECT_EQ(got_c, to_c);
}

TEST(UdpBatch, SegmentedSendsArriveAsSingleDatagramsAtAPlainReceiver) { segmented_round_trip(false); }

TEST(UdpBatch, SegmentedSendsArriveCoalescedAndAreSplitAtAGroReceiver) { segmented_round_trip(true); }

TEST(UdpBatch, GroReceiverStillFlagsOversizedDatagramsAndTakesPlainOnes) {
  Socket a, b;
  ASSERT_TRUE(enable_gro(b.fd));
  Sender tx(2000);  // plain sends
  Bytes big(1200, 0xAB), small(10, 0x01);
  ASSERT_TRUE(tx.add(a.fd, big, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
  ASSERT_TRUE(tx.add(a.fd, small, reinterpret_cast<const sockaddr*>(&b.addr), sizeof b.addr));
  EXPECT_EQ(tx.flush(a.fd), 2u);
  Receiver rx(1000, true);
  std::vector<bool> flags;
  std::vector<std::size_t> sizes;
  for (int spins = 0; flags.size() < 2 && spins < 200; ++spins) {
    pollfd p{b.fd, POLLIN, 0};
    ::poll(&p, 1, 10);
    const std::size_t n = rx.receive(b.fd);
    for (std::size_t i = 0; i < n; ++i) {
      flags.push_back(rx.truncated(i));
      sizes.push_back(rx.data(i).size());
    }
  }
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_TRUE(flags[0]);
  EXPECT_FALSE(flags[1]);
  EXPECT_EQ(sizes[1], 10u);
}

TEST(UdpBatch, NothingWaitingReceivesZero) {
  Socket a;
  Receiver rx(64);
  EXPECT_EQ(rx.receive(a.fd), 0u);
  Sender tx(64);
  EXPECT_EQ(tx.flush(a.fd), 0u);
}

}  // namespace
}  // namespace armored::udp_batch
