#include "common/backoff.h"

#include <algorithm>

namespace armored {

std::chrono::milliseconds Backoff::next() {
  const unsigned shift = std::min(attempt_, 30u);
  ++attempt_;
  const auto ceiling = std::min<std::int64_t>(cap_.count(), base_.count() << shift);
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(rng_.next_u64() % static_cast<std::uint64_t>(ceiling + 1)));
}

}  // namespace armored
