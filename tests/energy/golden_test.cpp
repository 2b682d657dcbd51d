// Golden tests: the model reproduces the reference chapter's worked numbers
// (iot-transport-encryption-chapter, "Putting Numbers to It" and section 17.6).

#include <gtest/gtest.h>

#include "energy/model.h"
#include "energy/profile.h"

namespace armored::energy {
namespace {

WireFacts some_wire() {
  WireFacts w;
  w.envelope_bytes = {76, 76, 76, 68};
  w.full = {1200, 1500, 1};
  w.resumed = {400, 300, 1};
  w.zero_rtt = {500, 300, 0};
  return w;
}

TEST(EnergyGolden, Esp32HandshakeIs72MsAnd38MilliJoules) {
  auto p = load_profile("esp32-wifi");
  ASSERT_TRUE(p) << p.error().message;
  // The chapter counts ECDHE 8 ms + ECDSA verify 12 ms + HKDF 2 ms (no client signature).
  double crypto = handshake_crypto_ms(*p, HandshakeKind::kFull, /*mutual_tls=*/false);
  EXPECT_DOUBLE_EQ(crypto, 22.0);
  HandshakeCost c = handshake_cost(*p, /*network_ms=*/50.0, crypto);
  EXPECT_DOUBLE_EQ(c.time_ms(), 72.0);
  // E = 3.3 V x 0.16 A x 0.072 s = 38.016 mJ ("38 mJ").
  EXPECT_NEAR(c.energy_uj / 1000.0, 38.0, 0.38);
  // AES-GCM adds 0.05 mJ per message: one handshake costs about 760 messages.
  double per_message = p->cost(Aead::kAes128Gcm).uj_per_message;
  EXPECT_DOUBLE_EQ(per_message, 50.0);
  EXPECT_NEAR(c.energy_uj / per_message, 760.0, 7.6);
}

TEST(EnergyGolden, Nrf52840WearableMatchesSection17_6) {
  auto p = load_profile("nrf52840-ble");
  ASSERT_TRUE(p) << p.error().message;
  Scenario s;
  s.interval_s = 30;
  s.packet_bytes = 96;
  s.battery_mah = 200;
  s.aead = Aead::kAes128Gcm;
  Report r = evaluate(*p, s, some_wire());
  const StrategyResult& keep = r.strategies.front();
  ASSERT_EQ(keep.strategy, Strategy::kPersistent);
  EXPECT_NEAR(keep.aead_uj - p->record_layer_uj, 0.8, 0.008);  // AES-128-GCM, 96 bytes
  EXPECT_NEAR(p->record_layer_uj, 0.3, 1e-9);
  EXPECT_NEAR(keep.radio_uj, 33.0, 0.33);                       // BLE transmission
  EXPECT_NEAR(keep.per_reading_uj, 34.1, 0.341);                // within 1 %
  EXPECT_DOUBLE_EQ(r.readings_per_day, 2880.0);
  EXPECT_NEAR(keep.active_per_day_mj, 98.2, 0.982);
  EXPECT_NEAR(r.battery_uj / 1e6, 2664.0, 1e-6);               // 200 mAh x 3.7 V
  EXPECT_NEAR(keep.battery_days_active_only, 27130.0, 271.3);
  // Radio dominates (97 %), encryption is about 3 %.
  EXPECT_NEAR(keep.radio_uj / keep.per_reading_uj, 0.97, 0.01);
  EXPECT_NEAR(keep.aead_uj / keep.per_reading_uj, 0.03, 0.01);
}

TEST(EnergyModel, SmallerPacketsAndCheaperHandshakesCostLess) {
  auto p = load_profile("esp32-wifi");
  ASSERT_TRUE(p);
  Scenario s;
  s.interval_s = 60;
  Report ours = evaluate(*p, s, some_wire());
  s.packet_bytes = 96 + p->framing_bytes;
  Report chapter = evaluate(*p, s, some_wire());
  EXPECT_LT(ours.strategies[0].radio_uj, chapter.strategies[0].radio_uj);
  const auto& full = ours.strategies[1];
  const auto& resumed = ours.strategies[2];
  const auto& zero = ours.strategies[3];
  EXPECT_GT(full.per_reading_uj, resumed.per_reading_uj);
  EXPECT_GT(resumed.per_reading_uj, zero.per_reading_uj);  // one round trip fewer
  EXPECT_EQ(full.round_trips, 3u);
  EXPECT_EQ(zero.round_trips, 2u);
  // Handshake crypto: full includes verify and sign; resumption only ECDHE + HKDF.
  EXPECT_NEAR(full.handshake_crypto_uj, 3.3 * 160 * (8 + 12 + 2 + 10), 1e-6);
  EXPECT_NEAR(resumed.handshake_crypto_uj, 3.3 * 160 * (8 + 2), 1e-6);
}

TEST(EnergyModel, BatteryLifeScalesInverselyWithRate) {
  auto p = load_profile("nrf52840-ble");
  ASSERT_TRUE(p);
  Scenario s;
  s.packet_bytes = 96;
  s.interval_s = 30;
  double d30 = evaluate(*p, s, some_wire()).strategies[0].battery_days_active_only;
  s.interval_s = 60;
  double d60 = evaluate(*p, s, some_wire()).strategies[0].battery_days_active_only;
  EXPECT_NEAR(d60 / d30, 2.0, 1e-9);
}

}  // namespace
}  // namespace armored::energy
