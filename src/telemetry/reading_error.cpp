#include <array>

#include "telemetry/reading.h"

namespace armored::telemetry {

const char* field_name(Field f) {
  static constexpr std::array<const char*, kFieldCount> kNames = {
      "length", "reserved", "timestamp", "heart_rate", "heart_rate_min", "heart_rate_max",
      "spo2", "spo2_min", "perfusion_index", "respiration_rate", "ecg_rhythm", "ecg_rr_mean",
      "ecg_hrv_rmssd", "ecg_pr", "ecg_qrs", "ecg_qtc", "ecg_st", "ecg_ectopic", "ecg_quality",
      "skin_temp", "activity", "steps", "posture", "battery_pct", "battery_mv", "window",
      "flags", "rssi"};
  auto i = static_cast<std::size_t>(f);
  return i < kNames.size() ? kNames[i] : "unknown";
}

const char* code_name(ReadingErrorCode c) {
  switch (c) {
    case ReadingErrorCode::kWrongLength: return "wrong length";
    case ReadingErrorCode::kReservedNotZero: return "reserved bits set";
    case ReadingErrorCode::kUnknownEnum: return "unknown value";
    case ReadingErrorCode::kOutOfRange: return "out of range";
    case ReadingErrorCode::kInconsistent: return "inconsistent";
    case ReadingErrorCode::kInFuture: return "in the future";
    case ReadingErrorCode::kTooOld: return "too old";
  }
  return "unknown";
}

std::string to_string(const ReadingError& e) {
  return std::string(field_name(e.field)) + ": " + code_name(e.code);
}

void RejectCounters::count(const ReadingError& e) {
  ++by_code_[static_cast<std::size_t>(e.code)];
  ++by_field_[static_cast<std::size_t>(e.field)];
  ++total_;
}

}  // namespace armored::telemetry
