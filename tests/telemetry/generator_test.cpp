#include <gtest/gtest.h>

#include <map>

#include "telemetry/generator.h"
#include "test_reading.h"

namespace armored::telemetry {
namespace {
using test::at;
using test::kNow;

TEST(TelemetryGenerator, EveryReadingIsValidAndRoundTrips) {
  SeededRng rng(42);
  for (int patient = 0; patient < 200; ++patient) {
    ReadingGenerator gen(rng);
    for (std::uint32_t i = 0; i < 300; ++i) {
      std::uint32_t ts = kNow + i * 30;
      Reading r = gen.next(ts, 30);
      auto ok = validate(r, at(ts));
      ASSERT_TRUE(ok) << "patient " << patient << " reading " << i << ": " << to_string(ok.error());
      auto back = decode(encode(r));
      ASSERT_TRUE(back);
      ASSERT_EQ(*back, r);
    }
  }
}

TEST(TelemetryGenerator, SameSeedSameReadings) {
  SeededRng a(7), b(7);
  ReadingGenerator ga(a), gb(b);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(ga.next(kNow + i), gb.next(kNow + i));
}

TEST(TelemetryGenerator, LooksLikeAPopulationOfPatients) {
  SeededRng rng(1);
  double hr_sum = 0, spo2_sum = 0;
  int n = 0, walking = 0, af = 0;
  std::map<EcgRhythm, int> rhythms;
  for (int patient = 0; patient < 500; ++patient) {
    ReadingGenerator gen(rng);
    bool patient_af = false;
    for (std::uint32_t i = 0; i < 100; ++i) {
      Reading r = gen.next(kNow + i * 30);
      hr_sum += r.heart_rate_dbpm / 10.0;
      spo2_sum += r.spo2_pct;
      walking += r.steps > 0;
      ++rhythms[r.ecg_rhythm];
      patient_af |= r.ecg_rhythm == EcgRhythm::kAtrialFibrillation;
      ++n;
    }
    af += patient_af;
  }
  EXPECT_GT(hr_sum / n, 60.0);
  EXPECT_LT(hr_sum / n, 95.0);
  EXPECT_GT(spo2_sum / n, 93.0);
  EXPECT_LT(spo2_sum / n, 99.5);
  EXPECT_GT(walking, n / 20);   // some activity
  EXPECT_LT(walking, n / 2);    // mostly resting
  EXPECT_GT(af, 5);             // a few patients in atrial fibrillation
  EXPECT_LT(af, 60);
  EXPECT_GT(rhythms[EcgRhythm::kSinus], n / 3);
}

}  // namespace
}  // namespace armored::telemetry
