#pragma once
// Realistic readings for the fleet simulator: each generator is one patient
// with a drawn baseline (resting heart rate, SpO2, skin temperature, a small
// share with atrial fibrillation) that drifts with rest/walk episodes, battery
// drain and charging, and rare events (lead off, motion artefact, fall).
// Randomness is injected; every reading it produces passes validate().

#include <cstdint>

#include "common/rng.h"
#include "telemetry/reading.h"

namespace armored::telemetry {

class ReadingGenerator {
 public:
  // Draws the patient's baseline from `rng`, which must outlive the generator.
  explicit ReadingGenerator(Rng& rng);

  // The reading for the window of `window_s` seconds (1..3600) ending at
  // `timestamp` (Unix seconds). Advances the patient's state.
  Reading next(std::uint32_t timestamp, std::uint16_t window_s = 30);

 private:
  std::uint64_t next_bits();
  double uniform(double lo, double hi);
  double normal(double mean, double sd);
  bool chance(double p);

  Rng& rng_;
  // Each reading draws one seed from rng_ and expands it locally (splitmix64):
  // about 40 draws per reading would otherwise each be a virtual call.
  std::uint64_t stream_ = 0;
  bool atrial_fibrillation_;
  double hr_base_, hr_;
  double spo2_base_, temp_base_, resp_base_;
  double battery_;
  bool walking_ = false, charging_ = false;
  std::uint8_t posture_;
};

}  // namespace armored::telemetry
