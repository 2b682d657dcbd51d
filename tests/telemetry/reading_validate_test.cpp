#include <functional>
#include <gtest/gtest.h>
#include <limits>

#include "telemetry/reading.h"
#include "test_reading.h"

namespace armored::telemetry {
namespace {
using test::at;
using test::kNow;
using test::typical_reading;

// The documented ranges (docs/telemetry-reading.md), restated here rather
// than read from the code so that a change to either shows up as a failure.
struct RangeCase {
  const char* name;
  Field field;
  std::int64_t lo, hi;          // documented inclusive range
  std::int64_t type_lo, type_hi;  // what the wire type can carry
  std::function<void(Reading&, std::int64_t)> set;
};

template <typename T>
constexpr std::int64_t tmin() { return std::numeric_limits<T>::min(); }
template <typename T>
constexpr std::int64_t tmax() { return std::numeric_limits<T>::max(); }

std::vector<RangeCase> range_cases() {
  using u8 = std::uint8_t;
  using u16 = std::uint16_t;
  using i16 = std::int16_t;
  using i8 = std::int8_t;
  return {
      // Min/max companions are widened so only the field under test can fail.
      {"heart_rate", Field::kHeartRate, 200, 3000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) {
         r.heart_rate_dbpm = static_cast<u16>(v);
         r.heart_rate_min_dbpm = 200;
         r.heart_rate_max_dbpm = 3000;
       }},
      {"heart_rate_min", Field::kHeartRateMin, 200, 3000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) {
         r.heart_rate_min_dbpm = static_cast<u16>(v);
         r.heart_rate_dbpm = 3000;
         r.heart_rate_max_dbpm = 3000;
       }},
      {"heart_rate_max", Field::kHeartRateMax, 200, 3000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) {
         r.heart_rate_max_dbpm = static_cast<u16>(v);
         r.heart_rate_dbpm = 200;
         r.heart_rate_min_dbpm = 200;
       }},
      {"spo2", Field::kSpo2, 0, 100, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.spo2_pct = static_cast<u8>(v); r.spo2_min_pct = 0; }},
      {"spo2_min", Field::kSpo2Min, 0, 100, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.spo2_min_pct = static_cast<u8>(v); r.spo2_pct = 100; }},
      {"perfusion_index", Field::kPerfusionIndex, 0, 2000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.perfusion_index_cpct = static_cast<u16>(v); }},
      {"respiration_rate", Field::kRespirationRate, 0, 80, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.respiration_rate = static_cast<u8>(v); }},
      {"ecg_rr_mean", Field::kEcgRrMean, 200, 3000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.ecg_rr_mean_ms = static_cast<u16>(v); }},
      {"ecg_hrv_rmssd", Field::kEcgHrvRmssd, 0, 1000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.ecg_hrv_rmssd_ms = static_cast<u16>(v); }},
      {"ecg_pr", Field::kEcgPr, 0, 400, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.ecg_pr_ms = static_cast<u16>(v); }},
      {"ecg_qrs", Field::kEcgQrs, 40, 250, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.ecg_qrs_ms = static_cast<u16>(v); }},
      {"ecg_qtc", Field::kEcgQtc, 200, 700, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.ecg_qtc_ms = static_cast<u16>(v); }},
      {"ecg_st", Field::kEcgSt, -2000, 2000, tmin<i16>(), tmax<i16>(),
       [](Reading& r, std::int64_t v) { r.ecg_st_uv = static_cast<i16>(v); }},
      {"ecg_ectopic", Field::kEcgEctopic, 0, 200, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.ecg_ectopic_beats = static_cast<u8>(v); }},
      {"ecg_quality", Field::kEcgQuality, 0, 100, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.ecg_quality_pct = static_cast<u8>(v); }},
      {"skin_temp", Field::kSkinTemp, 2000, 4500, tmin<i16>(), tmax<i16>(),
       [](Reading& r, std::int64_t v) { r.skin_temp_cdegc = static_cast<i16>(v); }},
      {"activity", Field::kActivity, 0, 16000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.activity_mg = static_cast<u16>(v); }},
      {"steps", Field::kSteps, 0, 1000, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.steps = static_cast<u16>(v); }},
      {"battery_pct", Field::kBatteryPct, 0, 100, tmin<u8>(), tmax<u8>(),
       [](Reading& r, std::int64_t v) { r.battery_pct = static_cast<u8>(v); }},
      {"battery_mv", Field::kBatteryMv, 2800, 4500, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.battery_mv = static_cast<u16>(v); }},
      {"window", Field::kWindow, 1, 3600, tmin<u16>(), tmax<u16>(),
       [](Reading& r, std::int64_t v) { r.window_s = static_cast<u16>(v); }},
      {"rssi", Field::kRssi, -127, 0, tmin<i8>(), tmax<i8>(),
       [](Reading& r, std::int64_t v) { r.rssi_dbm = static_cast<i8>(v); }},
  };
}

void PrintTo(const RangeCase& c, std::ostream* os) { *os << c.name; }

class FieldRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(FieldRange, AcceptsBothEndsAndRejectsOneStepBeyond) {
  const RangeCase& c = GetParam();
  for (std::int64_t v : {c.lo, c.hi}) {
    Reading r = typical_reading();
    c.set(r, v);
    auto ok = validate(r, at(kNow));
    EXPECT_TRUE(ok) << c.name << "=" << v << ": " << to_string(ok.error());
    // The wire form carries the value unchanged.
    auto back = parse_reading(encode(r), at(kNow));
    EXPECT_TRUE(back) << c.name << "=" << v;
  }
  for (std::int64_t v : {c.lo - 1, c.hi + 1}) {
    if (v < c.type_lo || v > c.type_hi) continue;  // not representable on the wire
    Reading r = typical_reading();
    c.set(r, v);
    auto bad = validate(r, at(kNow));
    ASSERT_FALSE(bad) << c.name << "=" << v;
    EXPECT_EQ(bad.error(), (ReadingError{ReadingErrorCode::kOutOfRange, c.field})) << c.name << "=" << v;
  }
}

INSTANTIATE_TEST_SUITE_P(Documented, FieldRange, ::testing::ValuesIn(range_cases()),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(TelemetryValidate, TypicalReadingIsValid) {
  EXPECT_TRUE(validate(typical_reading(), at(kNow)));
}

TEST(TelemetryValidate, TimestampFutureSkewBoundary) {
  Reading r = typical_reading();
  r.timestamp = kNow + 120;
  EXPECT_TRUE(validate(r, at(kNow)));
  r.timestamp = kNow + 121;
  auto bad = validate(r, at(kNow));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), (ReadingError{ReadingErrorCode::kInFuture, Field::kTimestamp}));
}

TEST(TelemetryValidate, TimestampMaximumAgeBoundary) {
  const std::uint32_t thirty_days = 30 * 24 * 3600;
  Reading r = typical_reading();
  r.timestamp = kNow - thirty_days;
  EXPECT_TRUE(validate(r, at(kNow)));
  r.timestamp = kNow - thirty_days - 1;
  auto bad = validate(r, at(kNow));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), (ReadingError{ReadingErrorCode::kTooOld, Field::kTimestamp}));
  r.timestamp = 0;
  EXPECT_FALSE(validate(r, at(kNow)));
}

TEST(TelemetryValidate, PolicyIsConfigurable) {
  ValidationPolicy strict{std::chrono::seconds{0}, std::chrono::seconds{60}};
  Reading r = typical_reading();
  r.timestamp = kNow + 1;
  EXPECT_FALSE(validate(r, at(kNow), strict));
  r.timestamp = kNow - 61;
  EXPECT_FALSE(validate(r, at(kNow), strict));
  r.timestamp = kNow - 60;
  EXPECT_TRUE(validate(r, at(kNow), strict));
}

TEST(TelemetryValidate, MinimaAndMaximaMustBracketTheMean) {
  Reading r = typical_reading();
  r.heart_rate_min_dbpm = r.heart_rate_dbpm + 1;
  ASSERT_FALSE(validate(r, at(kNow)));
  EXPECT_EQ(validate(r, at(kNow)).error(), (ReadingError{ReadingErrorCode::kInconsistent, Field::kHeartRateMin}));
  r = typical_reading();
  r.heart_rate_max_dbpm = r.heart_rate_dbpm - 1;
  EXPECT_EQ(validate(r, at(kNow)).error(), (ReadingError{ReadingErrorCode::kInconsistent, Field::kHeartRateMax}));
  r = typical_reading();
  r.spo2_min_pct = r.spo2_pct + 1;
  EXPECT_EQ(validate(r, at(kNow)).error(), (ReadingError{ReadingErrorCode::kInconsistent, Field::kSpo2Min}));
  r = typical_reading();
  r.heart_rate_min_dbpm = r.heart_rate_max_dbpm = r.heart_rate_dbpm;  // equal is fine
  r.spo2_min_pct = r.spo2_pct;
  EXPECT_TRUE(validate(r, at(kNow)));
}

TEST(TelemetryValidate, ReservedFlagBitsAreRejectedEvenWithoutDecode) {
  Reading r = typical_reading();
  r.flags = 0x0080;
  EXPECT_EQ(validate(r, at(kNow)).error(), (ReadingError{ReadingErrorCode::kReservedNotZero, Field::kFlags}));
  r.flags = flag::kDefined;
  EXPECT_TRUE(validate(r, at(kNow)));
}

TEST(TelemetryValidate, ParseReadingReportsDecodeErrorsFirst) {
  auto bytes = encode(typical_reading());
  bytes[50] = 1;
  auto r = parse_reading(bytes, at(kNow));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReadingErrorCode::kReservedNotZero);
  auto future = typical_reading();
  future.timestamp = kNow + 3600;
  r = parse_reading(encode(future), at(kNow));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ReadingErrorCode::kInFuture);
}

}  // namespace
}  // namespace armored::telemetry
