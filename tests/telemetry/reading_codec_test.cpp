#include <gtest/gtest.h>

#include "common/hex.h"
#include "telemetry/reading.h"
#include "test_reading.h"

namespace armored::telemetry {
namespace {
using test::typical_reading;

// The layout written out by hand from docs/telemetry-reading.md, field by field.
constexpr const char* kTypicalHex =
    "6553f100"  // timestamp 1700000000
    "02d5028a032a"  // heart rate 72.5, min 65.0, max 81.0
    "615f"  // SpO2 97, min 95
    "0136"  // perfusion index 3.10 %
    "0e01"  // respiration 14, rhythm sinus
    "033c002a00a00060019fffe7"  // RR 828, RMSSD 42, PR 160, QRS 96, QTc 415, ST -25
    "0261"  // ectopic 2, ECG quality 97
    "0d16001400000250"  // skin 33.50 C, activity 20 mg, steps 0, posture supine, battery 80 %
    "0fb4001e0004c4"  // 4020 mV, window 30 s, flags charging, RSSI -60
    "00000000000000";  // reserved

TEST(TelemetryCodec, EncodesTheDocumentedLayout) {
  auto bytes = encode(typical_reading());
  EXPECT_EQ(to_hex(bytes), kTypicalHex);
}

TEST(TelemetryCodec, DecodesTheDocumentedLayout) {
  auto bytes = from_hex(kTypicalHex);
  ASSERT_TRUE(bytes);
  ASSERT_EQ(bytes->size(), kReadingSize);
  auto r = decode(*bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, typical_reading());
}

TEST(TelemetryCodec, RoundTripsExtremeValues) {
  Reading r = typical_reading();
  r.timestamp = 0xFFFFFFFF;
  r.ecg_st_uv = -32768;
  r.skin_temp_cdegc = 32767;
  r.rssi_dbm = -128;
  r.flags = flag::kDefined;
  r.ecg_rhythm = EcgRhythm::kNoise;
  r.posture = Posture::kRightSide;
  auto bytes = encode(r);
  auto back = decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
}

TEST(TelemetryCodec, RejectsEveryOtherLength) {
  Bytes buf(kReadingSize + 1, 0);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, kReadingSize - 1, kReadingSize + 1}) {
    auto r = decode(ByteSpan(buf.data(), n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), (ReadingError{ReadingErrorCode::kWrongLength, Field::kLength})) << n;
  }
}

TEST(TelemetryCodec, RejectsAnyReservedByte) {
  for (std::size_t i = 45; i < kReadingSize; ++i) {
    auto bytes = encode(typical_reading());
    bytes[i] = 0x01;
    auto r = decode(bytes);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error(), (ReadingError{ReadingErrorCode::kReservedNotZero, Field::kReserved}));
  }
}

TEST(TelemetryCodec, RejectsAnyReservedFlagBit) {
  for (int bit = 7; bit < 16; ++bit) {
    auto bytes = encode(typical_reading());
    std::uint16_t flags = static_cast<std::uint16_t>(1u << bit);
    bytes[42] = static_cast<std::uint8_t>(flags >> 8);
    bytes[43] = static_cast<std::uint8_t>(flags);
    auto r = decode(bytes);
    ASSERT_FALSE(r) << bit;
    EXPECT_EQ(r.error(), (ReadingError{ReadingErrorCode::kReservedNotZero, Field::kFlags}));
  }
}

TEST(TelemetryCodec, RejectsUnknownRhythmAndPosture) {
  for (std::uint8_t v : {std::uint8_t{7}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
    auto bytes = encode(typical_reading());
    bytes[15] = v;
    auto r = decode(bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), (ReadingError{ReadingErrorCode::kUnknownEnum, Field::kEcgRhythm}));
  }
  for (std::uint8_t v : {std::uint8_t{6}, std::uint8_t{0xFF}}) {
    auto bytes = encode(typical_reading());
    bytes[36] = v;
    auto r = decode(bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), (ReadingError{ReadingErrorCode::kUnknownEnum, Field::kPosture}));
  }
}

TEST(TelemetryCodec, ErrorsNameTheField) {
  EXPECT_EQ(to_string({ReadingErrorCode::kOutOfRange, Field::kSpo2}), "spo2: out of range");
  EXPECT_EQ(to_string({ReadingErrorCode::kInFuture, Field::kTimestamp}), "timestamp: in the future");
  EXPECT_EQ(to_string({ReadingErrorCode::kWrongLength, Field::kLength}), "length: wrong length");
}

TEST(TelemetryCodec, RejectCountersCountByCodeAndField) {
  RejectCounters c;
  c.count({ReadingErrorCode::kOutOfRange, Field::kSpo2});
  c.count({ReadingErrorCode::kOutOfRange, Field::kHeartRate});
  c.count({ReadingErrorCode::kInFuture, Field::kTimestamp});
  EXPECT_EQ(c.total(), 3u);
  EXPECT_EQ(c.by_code(ReadingErrorCode::kOutOfRange), 2u);
  EXPECT_EQ(c.by_field(Field::kTimestamp), 1u);
  EXPECT_EQ(c.by_field(Field::kBatteryMv), 0u);
}

}  // namespace
}  // namespace armored::telemetry
