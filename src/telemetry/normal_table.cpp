#include "telemetry/internal/normal_table.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace armored::telemetry {
namespace {

constexpr int kSteps = 4096;

// Phi(x) = erfc(-x / sqrt 2) / 2, inverted by bisection: built once, exact
// to 1e-12, and no hand-written rational approximation to get wrong.
double invert_cdf(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 80; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

struct Table {
  // q[i] = quantile at probability (i + 0.5) / (kSteps + 1): half a step in
  // from 0 and 1, where the quantile is infinite.
  std::array<double, kSteps + 1> q{};
  Table() {
    for (int i = 0; i <= kSteps; ++i) q[static_cast<std::size_t>(i)] = invert_cdf((i + 0.5) / (kSteps + 1));
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

double normal_quantile(double u) {
  const auto& q = table().q;
  // NaN fails every comparison: it lands on 0 rather than in a cast.
  const double x = (u > 0 ? std::min(u, 1.0) : 0.0) * kSteps;
  const int i = std::min(static_cast<int>(x), kSteps - 1);
  const double f = x - i;
  const auto k = static_cast<std::size_t>(i);
  return q[k] + f * (q[k + 1] - q[k]);
}

}  // namespace armored::telemetry
