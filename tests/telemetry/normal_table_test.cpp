#include "telemetry/internal/normal_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace armored::telemetry {
namespace {

TEST(NormalQuantile, KnownQuantiles) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-9);
  // Probabilities are mapped half a table step inwards, so compare with a
  // tolerance of a few thousandths of a sigma.
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 2e-3);
  EXPECT_NEAR(normal_quantile(0.025), -1.959964, 2e-3);
  EXPECT_NEAR(normal_quantile(0.8413447), 1.0, 2e-3);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232, 0.05);
}

TEST(NormalQuantile, MonotonicSymmetricAndBounded) {
  double prev = -100;
  for (int i = 0; i <= 100000; ++i) {
    const double u = i / 100000.0;
    const double v = normal_quantile(u);
    ASSERT_GE(v, prev) << "at u = " << u;
    ASSERT_LT(std::fabs(v), 3.8) << "at u = " << u;
    ASSERT_NEAR(v, -normal_quantile(1.0 - u), 1e-9) << "at u = " << u;
    prev = v;
  }
  // Out-of-range inputs are clamped, never read outside the table.
  EXPECT_EQ(normal_quantile(-1.0), normal_quantile(0.0));
  EXPECT_EQ(normal_quantile(2.0), normal_quantile(1.0));
  EXPECT_FALSE(std::isnan(normal_quantile(std::nan(""))));
}

TEST(NormalQuantile, SampleMomentsAreStandardNormal) {
  std::uint64_t s = 12345;
  double sum = 0, sq = 0, within1 = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double v = normal_quantile(static_cast<double>(s >> 11) * 0x1.0p-53);
    sum += v;
    sq += v * v;
    within1 += std::fabs(v) < 1.0;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(sq / n), 1.0, 0.01);
  EXPECT_NEAR(within1 / n, 0.6827, 0.005);
}

}  // namespace
}  // namespace armored::telemetry
