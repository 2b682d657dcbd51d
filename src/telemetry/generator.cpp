#include "telemetry/generator.h"

#include "telemetry/internal/normal_table.h"

#include <algorithm>
#include <cmath>

namespace armored::telemetry {
namespace {

template <typename T>
T clamp_to(double v, double lo, double hi) {
  return static_cast<T>(std::lround(std::clamp(v, lo, hi)));
}

}  // namespace

ReadingGenerator::ReadingGenerator(Rng& rng) : rng_(rng) {
  stream_ = rng_.next_u64();
  atrial_fibrillation_ = chance(0.05);
  hr_base_ = std::clamp(normal(72, 10), 50.0, 100.0) + (atrial_fibrillation_ ? 15 : 0);
  hr_ = hr_base_;
  spo2_base_ = uniform(94, 99);
  temp_base_ = std::clamp(normal(33.5, 0.7), 30.0, 36.0);
  resp_base_ = std::clamp(normal(15, 2), 10.0, 22.0);
  battery_ = uniform(30, 100);
  posture_ = static_cast<std::uint8_t>(1 + next_bits() % 5);
}

std::uint64_t ReadingGenerator::next_bits() {
  std::uint64_t z = (stream_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double ReadingGenerator::uniform(double lo, double hi) {
  double u = static_cast<double>(next_bits() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * u;
}

double ReadingGenerator::normal(double mean, double sd) {
  return mean + sd * normal_quantile(uniform(0.0, 1.0));
}

bool ReadingGenerator::chance(double p) { return uniform(0.0, 1.0) < p; }

Reading ReadingGenerator::next(std::uint32_t timestamp, std::uint16_t window_s) {
  stream_ ^= rng_.next_u64();  // the injected Rng still drives every reading
  window_s = std::clamp<std::uint16_t>(window_s, 1, 3600);
  const double win = window_s;
  if (chance(walking_ ? 0.10 : 0.03)) walking_ = !walking_;
  if (walking_) posture_ = static_cast<std::uint8_t>(Posture::kUpright);
  else if (chance(0.02)) posture_ = static_cast<std::uint8_t>(1 + next_bits() % 5);

  // Heart rate relaxes towards its target (an AR(1) walk), faster when walking.
  double target = hr_base_ + (walking_ ? 28 : 0);
  hr_ += 0.3 * (target - hr_) + normal(0, atrial_fibrillation_ ? 5 : 2);
  hr_ = std::clamp(hr_, 30.0, 220.0);

  Reading r;
  r.timestamp = timestamp;
  r.window_s = window_s;
  r.heart_rate_dbpm = clamp_to<std::uint16_t>(hr_ * 10, 200, 3000);
  r.heart_rate_min_dbpm = clamp_to<std::uint16_t>(r.heart_rate_dbpm - 10 - std::fabs(normal(0, 30)), 200, r.heart_rate_dbpm);
  r.heart_rate_max_dbpm = clamp_to<std::uint16_t>(r.heart_rate_dbpm + 10 + std::fabs(normal(0, 40)), r.heart_rate_dbpm, 3000);
  r.spo2_pct = clamp_to<std::uint8_t>(spo2_base_ + normal(0, 0.7) - (walking_ ? 0.5 : 0), 85, 100);
  r.spo2_min_pct = clamp_to<std::uint8_t>(r.spo2_pct - std::fabs(normal(0, 1.0)), 80, r.spo2_pct);
  r.perfusion_index_cpct = clamp_to<std::uint16_t>(normal(300, 120), 20, 2000);
  r.respiration_rate = clamp_to<std::uint8_t>(resp_base_ + (walking_ ? 5 : 0) + normal(0, 1), 6, 40);

  const double bpm = r.heart_rate_dbpm / 10.0;
  if (atrial_fibrillation_) {
    r.ecg_rhythm = EcgRhythm::kAtrialFibrillation;
    r.ecg_pr_ms = 0;  // no P waves in atrial fibrillation
    r.ecg_hrv_rmssd_ms = clamp_to<std::uint16_t>(normal(140, 40), 40, 1000);
  } else {
    r.ecg_rhythm = bpm < 60 ? EcgRhythm::kSinusBradycardia
                 : bpm > 100 ? EcgRhythm::kSinusTachycardia : EcgRhythm::kSinus;
    r.ecg_pr_ms = clamp_to<std::uint16_t>(normal(160, 20), 100, 260);
    r.ecg_hrv_rmssd_ms = clamp_to<std::uint16_t>(normal(walking_ ? 20 : 40, 10), 5, 1000);
  }
  r.ecg_rr_mean_ms = clamp_to<std::uint16_t>(60000.0 / bpm, 200, 3000);
  r.ecg_qrs_ms = clamp_to<std::uint16_t>(normal(95, 8), 60, 140);
  r.ecg_qtc_ms = clamp_to<std::uint16_t>(normal(415, 20), 340, 520);
  r.ecg_st_uv = clamp_to<std::int16_t>(normal(0, 30), -2000, 2000);
  r.ecg_ectopic_beats = chance(0.1) ? clamp_to<std::uint8_t>(std::fabs(normal(0, 2)) + 1, 1, 200) : 0;
  r.ecg_quality_pct = clamp_to<std::uint8_t>(walking_ ? normal(80, 8) : normal(95, 3), 40, 100);

  r.skin_temp_cdegc = clamp_to<std::int16_t>((temp_base_ + (walking_ ? 0.3 : 0) + normal(0, 0.1)) * 100, 2000, 4500);
  r.activity_mg = clamp_to<std::uint16_t>(walking_ ? normal(350, 80) : normal(20, 10), 0, 16000);
  r.steps = walking_ ? clamp_to<std::uint16_t>(win * normal(1.7, 0.2), 0, 1000) : 0;
  r.posture = static_cast<Posture>(posture_);

  // A wearable lasts about three days; it charges from 15 % back to full.
  if (!charging_ && battery_ < 15) charging_ = true;
  if (charging_ && battery_ >= 100) charging_ = false;
  battery_ = std::clamp(battery_ + (charging_ ? win / 60.0 : -win / 2600.0), 0.0, 100.0);
  r.battery_pct = clamp_to<std::uint8_t>(battery_, 0, 100);
  r.battery_mv = clamp_to<std::uint16_t>(3300 + battery_ * 9 + (charging_ ? 80 : 0), 2800, 4500);
  r.rssi_dbm = clamp_to<std::int8_t>(normal(-62, 8), -100, -30);

  std::uint16_t flags = 0;
  if (charging_) flags |= flag::kCharging;
  if (walking_ && chance(0.1)) flags |= flag::kMotionArtifact;
  if (r.perfusion_index_cpct < 50) flags |= flag::kLowPerfusion;
  if (chance(0.002)) {
    flags |= flag::kLeadOff;
    r.ecg_quality_pct = 0;
    r.ecg_rhythm = EcgRhythm::kNoise;
  }
  if (chance(0.00001)) flags |= flag::kFallDetected;
  r.flags = flags;
  return r;
}

}  // namespace armored::telemetry
