// Wire form of the reading. Offsets are spelled out beside each field so the
// code reads like the table in docs/telemetry-reading.md.

#include "telemetry/reading.h"

namespace armored::telemetry {
namespace {

constexpr std::size_t kReservedOffset = 45;  // bytes 45..51 are reserved

class FixedWriter {
 public:
  explicit FixedWriter(ReadingBytes& out) : out_(out) {}
  void u8(std::uint8_t v) { out_[pos_++] = v; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void i8(std::int8_t v) { u8(static_cast<std::uint8_t>(v)); }
  void i16(std::int16_t v) { u16(static_cast<std::uint16_t>(v)); }
  std::size_t pos() const { return pos_; }

 private:
  ReadingBytes& out_;
  std::size_t pos_ = 0;
};

// The length is checked once up front, so the individual reads cannot fail.
struct FixedReader {
  ByteReader r;
  std::uint8_t u8() { std::uint8_t v = 0; (void)r.read_u8(v); return v; }
  std::uint16_t u16() { std::uint16_t v = 0; (void)r.read_u16be(v); return v; }
  std::uint32_t u32() { std::uint32_t v = 0; (void)r.read_u32be(v); return v; }
  std::int8_t i8() { return static_cast<std::int8_t>(u8()); }
  std::int16_t i16() { return static_cast<std::int16_t>(u16()); }
};

}  // namespace

ReadingBytes encode(const Reading& r) {
  ReadingBytes out{};
  FixedWriter w(out);
  w.u32(r.timestamp);                             //  0
  w.u16(r.heart_rate_dbpm);                       //  4
  w.u16(r.heart_rate_min_dbpm);                   //  6
  w.u16(r.heart_rate_max_dbpm);                   //  8
  w.u8(r.spo2_pct);                               // 10
  w.u8(r.spo2_min_pct);                           // 11
  w.u16(r.perfusion_index_cpct);                  // 12
  w.u8(r.respiration_rate);                       // 14
  w.u8(static_cast<std::uint8_t>(r.ecg_rhythm));  // 15
  w.u16(r.ecg_rr_mean_ms);                        // 16
  w.u16(r.ecg_hrv_rmssd_ms);                      // 18
  w.u16(r.ecg_pr_ms);                             // 20
  w.u16(r.ecg_qrs_ms);                            // 22
  w.u16(r.ecg_qtc_ms);                            // 24
  w.i16(r.ecg_st_uv);                             // 26
  w.u8(r.ecg_ectopic_beats);                      // 28
  w.u8(r.ecg_quality_pct);                        // 29
  w.i16(r.skin_temp_cdegc);                       // 30
  w.u16(r.activity_mg);                           // 32
  w.u16(r.steps);                                 // 34
  w.u8(static_cast<std::uint8_t>(r.posture));     // 36
  w.u8(r.battery_pct);                            // 37
  w.u16(r.battery_mv);                            // 38
  w.u16(r.window_s);                              // 40
  w.u16(r.flags);                                 // 42
  w.i8(r.rssi_dbm);                               // 44
  // 45..51 stay zero (reserved).
  return out;
}

Result<Reading, ReadingError> decode(ByteSpan bytes) {
  if (bytes.size() != kReadingSize) return unexpected(ReadingError{ReadingErrorCode::kWrongLength, Field::kLength});
  for (std::size_t i = kReservedOffset; i < kReadingSize; ++i) {
    if (bytes[i] != 0) return unexpected(ReadingError{ReadingErrorCode::kReservedNotZero, Field::kReserved});
  }
  FixedReader in{ByteReader(bytes)};
  Reading r;
  r.timestamp = in.u32();
  r.heart_rate_dbpm = in.u16();
  r.heart_rate_min_dbpm = in.u16();
  r.heart_rate_max_dbpm = in.u16();
  r.spo2_pct = in.u8();
  r.spo2_min_pct = in.u8();
  r.perfusion_index_cpct = in.u16();
  r.respiration_rate = in.u8();
  std::uint8_t rhythm = in.u8();
  if (rhythm > static_cast<std::uint8_t>(EcgRhythm::kNoise)) {
    return unexpected(ReadingError{ReadingErrorCode::kUnknownEnum, Field::kEcgRhythm});
  }
  r.ecg_rhythm = static_cast<EcgRhythm>(rhythm);
  r.ecg_rr_mean_ms = in.u16();
  r.ecg_hrv_rmssd_ms = in.u16();
  r.ecg_pr_ms = in.u16();
  r.ecg_qrs_ms = in.u16();
  r.ecg_qtc_ms = in.u16();
  r.ecg_st_uv = in.i16();
  r.ecg_ectopic_beats = in.u8();
  r.ecg_quality_pct = in.u8();
  r.skin_temp_cdegc = in.i16();
  r.activity_mg = in.u16();
  r.steps = in.u16();
  std::uint8_t posture = in.u8();
  if (posture > static_cast<std::uint8_t>(Posture::kRightSide)) {
    return unexpected(ReadingError{ReadingErrorCode::kUnknownEnum, Field::kPosture});
  }
  r.posture = static_cast<Posture>(posture);
  r.battery_pct = in.u8();
  r.battery_mv = in.u16();
  r.window_s = in.u16();
  r.flags = in.u16();
  if ((r.flags & ~flag::kDefined) != 0) {
    return unexpected(ReadingError{ReadingErrorCode::kReservedNotZero, Field::kFlags});
  }
  r.rssi_dbm = in.i8();
  return r;
}

Result<Reading, ReadingError> parse_reading(ByteSpan bytes, Clock::TimePoint now,
                                            const ValidationPolicy& policy) {
  auto r = decode(bytes);
  if (!r) return r;
  if (auto v = validate(*r, now, policy); !v) return unexpected(v.error());
  return r;
}

}  // namespace armored::telemetry
