#pragma once
// The 52-byte wearable reading (reference chapter section 17.6: a 4-byte
// timestamp plus 48 bytes of vitals). The byte layout, units and valid ranges
// are specified in docs/telemetry-reading.md; this header is the code form.
// Sans-I/O: nothing here reads the clock; callers pass `now`.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/result.h"

namespace armored::telemetry {

inline constexpr std::size_t kReadingSize = 52;
using ReadingBytes = std::array<std::uint8_t, kReadingSize>;

enum class EcgRhythm : std::uint8_t {
  kUnclassified = 0, kSinus = 1, kSinusBradycardia = 2, kSinusTachycardia = 3,
  kAtrialFibrillation = 4, kOtherIrregular = 5, kNoise = 6,
};
enum class Posture : std::uint8_t {
  kUnknown = 0, kUpright = 1, kSupine = 2, kProne = 3, kLeftSide = 4, kRightSide = 5,
};

// Bits of Reading::flags; every other bit is reserved and must be zero.
namespace flag {
inline constexpr std::uint16_t kLeadOff = 1u << 0;
inline constexpr std::uint16_t kMotionArtifact = 1u << 1;
inline constexpr std::uint16_t kCharging = 1u << 2;
inline constexpr std::uint16_t kFallDetected = 1u << 3;
inline constexpr std::uint16_t kLowPerfusion = 1u << 4;
inline constexpr std::uint16_t kSensorFault = 1u << 5;
inline constexpr std::uint16_t kClockUnsynced = 1u << 6;
inline constexpr std::uint16_t kDefined = 0x007F;
}  // namespace flag

// One reading, field for field as on the wire (units in the names:
// dbpm = 0.1 beats/min, cpct = 0.01 %, cdegc = 0.01 degC, mg = milli-g).
struct Reading {
  std::uint32_t timestamp = 0;  // Unix seconds, end of the window
  std::uint16_t heart_rate_dbpm = 0;
  std::uint16_t heart_rate_min_dbpm = 0;
  std::uint16_t heart_rate_max_dbpm = 0;
  std::uint8_t spo2_pct = 0;
  std::uint8_t spo2_min_pct = 0;
  std::uint16_t perfusion_index_cpct = 0;
  std::uint8_t respiration_rate = 0;  // breaths/min
  EcgRhythm ecg_rhythm = EcgRhythm::kUnclassified;
  std::uint16_t ecg_rr_mean_ms = 0;
  std::uint16_t ecg_hrv_rmssd_ms = 0;
  std::uint16_t ecg_pr_ms = 0;  // 0: no P wave detected (e.g. atrial fibrillation)
  std::uint16_t ecg_qrs_ms = 0;
  std::uint16_t ecg_qtc_ms = 0;
  std::int16_t ecg_st_uv = 0;  // ST deviation, microvolts
  std::uint8_t ecg_ectopic_beats = 0;
  std::uint8_t ecg_quality_pct = 0;
  std::int16_t skin_temp_cdegc = 0;
  std::uint16_t activity_mg = 0;
  std::uint16_t steps = 0;
  Posture posture = Posture::kUnknown;
  std::uint8_t battery_pct = 0;
  std::uint16_t battery_mv = 0;
  std::uint16_t window_s = 0;  // seconds summarised by this reading
  std::uint16_t flags = 0;
  std::int8_t rssi_dbm = 0;  // radio link to the gateway

  bool operator==(const Reading&) const = default;
};

// Which field a rejection is about (kLength and kReserved are structural).
enum class Field : std::uint8_t {
  kLength, kReserved, kTimestamp, kHeartRate, kHeartRateMin, kHeartRateMax, kSpo2, kSpo2Min,
  kPerfusionIndex, kRespirationRate, kEcgRhythm, kEcgRrMean, kEcgHrvRmssd, kEcgPr, kEcgQrs,
  kEcgQtc, kEcgSt, kEcgEctopic, kEcgQuality, kSkinTemp, kActivity, kSteps, kPosture,
  kBatteryPct, kBatteryMv, kWindow, kFlags, kRssi,
};
inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kRssi) + 1;

enum class ReadingErrorCode : std::uint8_t {
  kWrongLength,      // input is not exactly kReadingSize bytes
  kReservedNotZero,  // a reserved byte or flag bit is set
  kUnknownEnum,      // rhythm or posture value not defined
  kOutOfRange,       // value outside the documented range
  kInconsistent,     // e.g. heart-rate minimum above the mean
  kInFuture,         // timestamp later than now + allowed skew
  kTooOld,           // timestamp earlier than now - maximum age
};
inline constexpr std::size_t kReadingErrorCodeCount = 7;

struct ReadingError {
  ReadingErrorCode code;
  Field field;
  bool operator==(const ReadingError&) const = default;
};

// "heart_rate: out of range" and the like, for logs and the audit trail.
std::string to_string(const ReadingError& e);
const char* field_name(Field f);
const char* code_name(ReadingErrorCode c);

// Serialises every field big-endian at its documented offset; reserved bytes zero.
ReadingBytes encode(const Reading& r);

// Parses exactly kReadingSize bytes. Fails with kWrongLength on any other size,
// kReservedNotZero / kUnknownEnum for structural violations. Does not check ranges.
Result<Reading, ReadingError> decode(ByteSpan bytes);

struct ValidationPolicy {
  std::chrono::seconds max_future_skew{120};          // device clocks run a little fast
  std::chrono::seconds max_age{30 * 24 * 3600};       // a gateway may spool for weeks
};

// Checks every field against its documented range and the timestamp against
// `now` (future beyond skew: kInFuture; older than max_age: kTooOld).
// Returns the first violation in wire order.
Result<void, ReadingError> validate(const Reading& r, Clock::TimePoint now,
                                    const ValidationPolicy& policy = {});

// decode() then validate().
Result<Reading, ReadingError> parse_reading(ByteSpan bytes, Clock::TimePoint now,
                                            const ValidationPolicy& policy = {});

// Rejection counters by error code and by field (single-threaded; the owner
// aggregates across threads).
class RejectCounters {
 public:
  void count(const ReadingError& e);
  std::uint64_t by_code(ReadingErrorCode c) const { return by_code_[static_cast<std::size_t>(c)]; }
  std::uint64_t by_field(Field f) const { return by_field_[static_cast<std::size_t>(f)]; }
  std::uint64_t total() const { return total_; }

 private:
  std::array<std::uint64_t, kReadingErrorCodeCount> by_code_{};
  std::array<std::uint64_t, kFieldCount> by_field_{};
  std::uint64_t total_ = 0;
};

}  // namespace armored::telemetry
