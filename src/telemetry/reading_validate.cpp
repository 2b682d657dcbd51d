// Range checks. The ranges are physiological or sensor limits, wide enough
// for sick patients (a monitor must report a heart rate of 25 or 280) and
// narrow enough to reject garbage. docs/telemetry-reading.md lists them.

#include "telemetry/reading.h"

namespace armored::telemetry {
namespace {

using Check = Result<void, ReadingError>;

Check in_range(std::int64_t v, std::int64_t lo, std::int64_t hi, Field f) {
  if (v < lo || v > hi) return unexpected(ReadingError{ReadingErrorCode::kOutOfRange, f});
  return {};
}
Check inconsistent(Field f) { return unexpected(ReadingError{ReadingErrorCode::kInconsistent, f}); }

Check check_timestamp(std::uint32_t ts, Clock::TimePoint now, const ValidationPolicy& p) {
  const std::int64_t now_s = unix_seconds(now);
  if (static_cast<std::int64_t>(ts) > now_s + p.max_future_skew.count()) {
    return unexpected(ReadingError{ReadingErrorCode::kInFuture, Field::kTimestamp});
  }
  if (static_cast<std::int64_t>(ts) < now_s - p.max_age.count()) {
    return unexpected(ReadingError{ReadingErrorCode::kTooOld, Field::kTimestamp});
  }
  return {};
}

}  // namespace

#define ARMORED_CHECK(expr) \
  do {                      \
    if (auto c_ = (expr); !c_) return c_; \
  } while (0)

Check validate(const Reading& r, Clock::TimePoint now, const ValidationPolicy& policy) {
  ARMORED_CHECK(check_timestamp(r.timestamp, now, policy));
  ARMORED_CHECK(in_range(r.heart_rate_dbpm, 200, 3000, Field::kHeartRate));
  ARMORED_CHECK(in_range(r.heart_rate_min_dbpm, 200, 3000, Field::kHeartRateMin));
  if (r.heart_rate_min_dbpm > r.heart_rate_dbpm) return inconsistent(Field::kHeartRateMin);
  ARMORED_CHECK(in_range(r.heart_rate_max_dbpm, 200, 3000, Field::kHeartRateMax));
  if (r.heart_rate_max_dbpm < r.heart_rate_dbpm) return inconsistent(Field::kHeartRateMax);
  ARMORED_CHECK(in_range(r.spo2_pct, 0, 100, Field::kSpo2));
  ARMORED_CHECK(in_range(r.spo2_min_pct, 0, 100, Field::kSpo2Min));
  if (r.spo2_min_pct > r.spo2_pct) return inconsistent(Field::kSpo2Min);
  ARMORED_CHECK(in_range(r.perfusion_index_cpct, 0, 2000, Field::kPerfusionIndex));
  ARMORED_CHECK(in_range(r.respiration_rate, 0, 80, Field::kRespirationRate));
  // ecg_rhythm is checked by decode() (enum).
  ARMORED_CHECK(in_range(r.ecg_rr_mean_ms, 200, 3000, Field::kEcgRrMean));
  ARMORED_CHECK(in_range(r.ecg_hrv_rmssd_ms, 0, 1000, Field::kEcgHrvRmssd));
  ARMORED_CHECK(in_range(r.ecg_pr_ms, 0, 400, Field::kEcgPr));
  ARMORED_CHECK(in_range(r.ecg_qrs_ms, 40, 250, Field::kEcgQrs));
  ARMORED_CHECK(in_range(r.ecg_qtc_ms, 200, 700, Field::kEcgQtc));
  ARMORED_CHECK(in_range(r.ecg_st_uv, -2000, 2000, Field::kEcgSt));
  ARMORED_CHECK(in_range(r.ecg_ectopic_beats, 0, 200, Field::kEcgEctopic));
  ARMORED_CHECK(in_range(r.ecg_quality_pct, 0, 100, Field::kEcgQuality));
  ARMORED_CHECK(in_range(r.skin_temp_cdegc, 2000, 4500, Field::kSkinTemp));
  ARMORED_CHECK(in_range(r.activity_mg, 0, 16000, Field::kActivity));
  ARMORED_CHECK(in_range(r.steps, 0, 1000, Field::kSteps));
  // posture is checked by decode() (enum).
  ARMORED_CHECK(in_range(r.battery_pct, 0, 100, Field::kBatteryPct));
  ARMORED_CHECK(in_range(r.battery_mv, 2800, 4500, Field::kBatteryMv));
  ARMORED_CHECK(in_range(r.window_s, 1, 3600, Field::kWindow));
  if ((r.flags & ~flag::kDefined) != 0) {
    return unexpected(ReadingError{ReadingErrorCode::kReservedNotZero, Field::kFlags});
  }
  ARMORED_CHECK(in_range(r.rssi_dbm, -127, 0, Field::kRssi));
  return {};
}

#undef ARMORED_CHECK

}  // namespace armored::telemetry
