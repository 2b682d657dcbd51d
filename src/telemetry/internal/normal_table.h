#pragma once
// Standard normal values from one uniform draw, by table lookup: the fleet
// simulator draws about 17 normal values per reading, and Box-Muller's log,
// sqrt, sin and cos were a tenth of the simulator's CPU at 200,000
// readings/s. The table holds the normal quantile at 4,097 evenly spaced
// probabilities; values between them are interpolated linearly, so the
// tails stop near +-3.7 sigma, which a simulated vital sign never needs.

namespace armored::telemetry {

// The standard normal quantile for u in [0, 1) (interpolated; inputs outside
// are clamped). Monotonic, symmetric about u = 0.5, |result| < 3.8.
double normal_quantile(double u);

}  // namespace armored::telemetry
