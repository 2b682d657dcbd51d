// The sliding replay window on its own, including sizes beyond one word.

#include <gtest/gtest.h>

#include "e3/replay_window.h"

namespace armored::e3 {
namespace {

bool accept(ReplayWindow& w, std::uint64_t seq) {
  if (!w.check(seq)) return false;
  w.mark(seq);
  return true;
}

TEST(ReplayWindow, AcceptsEachNumberOnce) {
  ReplayWindow w(64);
  EXPECT_TRUE(accept(w, 5));
  EXPECT_FALSE(accept(w, 5));
  EXPECT_TRUE(accept(w, 3));
  EXPECT_TRUE(accept(w, 0));
  EXPECT_EQ(w.check(3).error().code, E3Errc::kReplayed);
  EXPECT_TRUE(accept(w, 100));
  EXPECT_EQ(w.check(36).error().code, E3Errc::kTooOld);
  EXPECT_TRUE(accept(w, 37));
  EXPECT_EQ(w.check(37).error().code, E3Errc::kReplayed);
}

class Sizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Sizes, EdgeOfWindow) {
  const std::size_t n = GetParam();
  ReplayWindow w(n);
  const std::uint64_t top = 5000;
  ASSERT_TRUE(accept(w, top));
  EXPECT_EQ(w.check(top - n).error().code, E3Errc::kTooOld);
  if (n > 1) {
    EXPECT_TRUE(accept(w, top - n + 1));
    EXPECT_FALSE(accept(w, top - n + 1));
  }
  // A jump larger than the window forgets everything below.
  ASSERT_TRUE(accept(w, top + 3 * n + 7));
  EXPECT_EQ(w.check(top).error().code, E3Errc::kTooOld);
  // Bits survive shifts that cross word boundaries.
  ReplayWindow v(n);
  for (std::uint64_t s = 0; s < 3000; s += 3) ASSERT_TRUE(accept(v, s));
  for (std::uint64_t s = 2999; s + n > 2999 && s > 0; --s) {
    auto r = v.check(s);
    if (s % 3 == 0) EXPECT_FALSE(r) << s;
    else EXPECT_TRUE(r) << s;
  }
}

INSTANTIATE_TEST_SUITE_P(E3, Sizes, ::testing::Values(1, 2, 63, 64, 65, 100, 128, 1000, 1024));

}  // namespace
}  // namespace armored::e3
