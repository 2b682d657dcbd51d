#include "common/result.h"

#include <gtest/gtest.h>

namespace armored {
namespace {

enum class Code { kBad };
struct E {
  Code code;
};

Result<int, E> half(int x) {
  if (x % 2) return unexpected(E{Code::kBad});
  return x / 2;
}

Result<int, E> quarter(int x) {
  auto h = half(x);
  ARMORED_TRY(h);
  return half(*h);
}

TEST(Result, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kBad);
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, TryPropagatesErrors) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_FALSE(quarter(6));
  EXPECT_FALSE(quarter(5));
}

TEST(Result, VoidStatus) {
  Status ok;
  EXPECT_TRUE(ok);
  Status bad = fail("no");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "no");
}

}  // namespace
}  // namespace armored
