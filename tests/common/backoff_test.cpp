// Back-off: every delay within [0, min(cap, base * 2^attempt)], the ceiling
// doubling per attempt, and delays actually spread (full jitter).
#include "common/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace armored {
namespace {
using std::chrono::milliseconds;

TEST(Backoff, DelaysStayUnderADoublingCeilingUpToTheCap) {
  SeededRng rng(7);
  Backoff b(milliseconds(100), milliseconds(1000), rng);
  const std::int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (std::int64_t c : ceilings) {
    auto d = b.next();
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), c);
  }
  EXPECT_EQ(b.attempts(), 7u);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_LE(b.next().count(), 100);
}

TEST(Backoff, FullJitterSpreadsPeersThatFailedTogether) {
  std::set<std::int64_t> delays;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    SeededRng rng(seed);
    Backoff b(milliseconds(500), milliseconds(30000), rng);
    for (int i = 0; i < 5; ++i) b.next();
    delays.insert(b.next().count());  // sixth attempt: ceiling 16 s
  }
  EXPECT_GT(delays.size(), 40u) << "50 peers should not retry in lockstep";
}

TEST(Backoff, HugeAttemptCountsDoNotOverflow) {
  SeededRng rng(3);
  Backoff b(milliseconds(200), milliseconds(4000), rng);
  for (int i = 0; i < 100; ++i) {
    auto d = b.next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 4000);
  }
}

}  // namespace
}  // namespace armored
