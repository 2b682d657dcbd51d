// RecentSet: the fixed-capacity FIFO set of datagram hashes the gateway uses
// to answer re-sends without spooling them twice. Checked against a simple
// model (std::set + std::deque) under churn, including hashes that collide
// in the table so deletion has to shift probe runs.

#include "gateway/internal/recent_set.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>

namespace armored::gateway {
namespace {

TEST(RecentSet, RemembersAndForgetsTheOldestFirst) {
  RecentSet r(4);
  EXPECT_EQ(r.capacity(), 4u);
  for (std::uint64_t h = 1; h <= 4; ++h) EXPECT_TRUE(r.insert(h));
  EXPECT_FALSE(r.insert(3));  // already there
  for (std::uint64_t h = 1; h <= 4; ++h) EXPECT_TRUE(r.contains(h));
  EXPECT_TRUE(r.insert(5));   // forgets 1
  EXPECT_FALSE(r.contains(1));
  EXPECT_TRUE(r.contains(2));
  EXPECT_TRUE(r.contains(5));
  EXPECT_EQ(r.size(), 4u);
}

TEST(RecentSet, HashZeroIsAnOrdinaryValue) {
  RecentSet r(2);
  EXPECT_FALSE(r.contains(0));
  EXPECT_TRUE(r.insert(0));
  EXPECT_TRUE(r.contains(0));
}

void check_against_model(std::uint64_t seed, std::size_t capacity, std::uint64_t value_mask, int steps) {
  RecentSet r(capacity);
  std::set<std::uint64_t> in;
  std::deque<std::uint64_t> order;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < steps; ++i) {
    // Values share their low bits often, so many land on the same home
    // slot. (0 and 1 are one entry in the set, so the model avoids them.)
    const std::uint64_t h = ((rng() & value_mask) << 20 | (rng() & 3)) + 2;
    const bool fresh = !in.contains(h);
    ASSERT_EQ(r.contains(h), !fresh) << i;
    ASSERT_EQ(r.insert(h), fresh) << i;
    if (fresh) {
      in.insert(h);
      order.push_back(h);
      if (order.size() > r.capacity()) {
        in.erase(order.front());
        order.pop_front();
      }
    }
    ASSERT_EQ(r.size(), order.size());
  }
  for (std::uint64_t h : order) EXPECT_TRUE(r.contains(h));
}

TEST(RecentSet, MatchesAFifoSetModelUnderChurn) {
  check_against_model(1, 64, 0xFF, 20000);
  check_against_model(2, 1000, 0xFFF, 15000);
  check_against_model(3, 8, 0xF, 5000);
}

TEST(RecentSet, InsertAllEqualsInsertingOneByOne) {
  RecentSet a(64), b(64);
  std::vector<std::uint64_t> hs;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) hs.push_back((rng() & 0xFF) << 20 | 5);  // with repeats
  for (std::size_t from = 0; from < hs.size(); from += 100) {
    a.insert_all(std::span(hs).subspan(from, 100));
    for (std::size_t i = from; i < from + 100; ++i) b.insert(hs[i]);
    ASSERT_EQ(a.size(), b.size());
    for (std::uint64_t h : hs) ASSERT_EQ(a.contains(h), b.contains(h)) << from;
  }
}

TEST(RecentSet, DatagramHashCoversEveryByte) {
  Bytes a(76, 0x11);
  Bytes b = a;
  b[75] ^= 1;
  EXPECT_NE(datagram_hash(a), datagram_hash(b));
  EXPECT_EQ(datagram_hash(a), datagram_hash(Bytes(76, 0x11)));
}

}  // namespace
}  // namespace armored::gateway
