#include "device/internal/pending_queue.h"

#include <gtest/gtest.h>

#include <deque>

namespace armored::device {
namespace {

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

TEST(MessageBytes, InlineAndHeapHoldTheSameBytes) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, MessageBytes::kInline, MessageBytes::kInline + 1, std::size_t{1500}}) {
    const Bytes b = pattern(n, 7);
    MessageBytes m(b);
    ASSERT_EQ(m.size(), n);
    EXPECT_TRUE(std::equal(m.begin(), m.end(), b.begin(), b.end())) << n;
    MessageBytes moved(std::move(m));
    EXPECT_TRUE(std::equal(moved.begin(), moved.end(), b.begin(), b.end())) << n;
    EXPECT_EQ(m.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  }
}

TEST(RingQueue, KeepsOrderThroughGrowthWrapAndErase) {
  RingQueue<MessageBytes> q;
  std::deque<Bytes> model;
  std::uint8_t seed = 0;
  // Mixed pushes, pops and middle erases; compared with a std::deque model.
  for (int round = 0; round < 2000; ++round) {
    const int op = (round * 7919) % 10;
    if (op < 5 || model.empty()) {
      Bytes b = pattern(static_cast<std::size_t>(round % 3 == 0 ? 200 : 40), seed++);
      q.push_back(MessageBytes(b));
      model.push_back(b);
    } else if (op < 8) {
      q.pop_front();
      model.pop_front();
    } else {
      const std::size_t i = static_cast<std::size_t>(round) % model.size();
      q.erase(i);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_EQ(q.size(), model.size());
    for (std::size_t i = 0; i < model.size(); ++i) {
      ASSERT_TRUE(std::equal(q[i].begin(), q[i].end(), model[i].begin(), model[i].end())) << "round " << round;
    }
  }
}

TEST(RingQueue, DrainsAfterABacklogAndKeepsWorking) {
  RingQueue<MessageBytes> q;
  for (int i = 0; i < 10000; ++i) q.push_back(MessageBytes(pattern(40, static_cast<std::uint8_t>(i))));
  for (int i = 0; i < 9990; ++i) {
    ASSERT_EQ(q.front()[0], static_cast<std::uint8_t>(i));
    q.pop_front();
  }
  ASSERT_EQ(q.size(), 10u);
  EXPECT_LE(q.capacity(), 128u) << "the backlog's memory is given back";
  for (int i = 9990; i < 10000; ++i) {
    ASSERT_EQ(q.front()[0], static_cast<std::uint8_t>(i));
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
  q.push_back(MessageBytes(pattern(5, 1)));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front()[0], 1);
}

}  // namespace
}  // namespace armored::device
