#pragma once
// Reconnect back-off: exponential with full jitter (the delay is drawn
// uniformly from [0, min(cap, base * 2^attempt)]), so a fleet of gateways
// (or clouds) that lost their peer at the same moment does not come back in lockstep.

#include <chrono>

#include "common/rng.h"

namespace armored {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, Rng& rng)
      : base_(base), cap_(cap), rng_(rng) {}
  // The delay before the next attempt; each call doubles the ceiling.
  std::chrono::milliseconds next();
  // After a successful connection.
  void reset() { attempt_ = 0; }
  unsigned attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds base_, cap_;
  Rng& rng_;
  unsigned attempt_ = 0;
};

}  // namespace armored
