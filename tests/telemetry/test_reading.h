#pragma once
// A plausible reading used as the base of the tests; every field is inside
// its documented range and consistent with the others.

#include "telemetry/reading.h"

namespace armored::telemetry::test {

inline constexpr std::uint32_t kNow = 1'700'000'000;

inline Reading typical_reading() {
  Reading r;
  r.timestamp = kNow;
  r.heart_rate_dbpm = 725;
  r.heart_rate_min_dbpm = 650;
  r.heart_rate_max_dbpm = 810;
  r.spo2_pct = 97;
  r.spo2_min_pct = 95;
  r.perfusion_index_cpct = 310;
  r.respiration_rate = 14;
  r.ecg_rhythm = EcgRhythm::kSinus;
  r.ecg_rr_mean_ms = 828;
  r.ecg_hrv_rmssd_ms = 42;
  r.ecg_pr_ms = 160;
  r.ecg_qrs_ms = 96;
  r.ecg_qtc_ms = 415;
  r.ecg_st_uv = -25;
  r.ecg_ectopic_beats = 2;
  r.ecg_quality_pct = 97;
  r.skin_temp_cdegc = 3350;
  r.activity_mg = 20;
  r.steps = 0;
  r.posture = Posture::kSupine;
  r.battery_pct = 80;
  r.battery_mv = 4020;
  r.window_s = 30;
  r.flags = flag::kCharging;
  r.rssi_dbm = -60;
  return r;
}

inline Clock::TimePoint at(std::int64_t unix_s) {
  return Clock::TimePoint{std::chrono::seconds{unix_s}};
}

}  // namespace armored::telemetry::test
