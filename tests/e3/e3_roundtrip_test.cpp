// Sealer <-> Opener: round trips for every AEAD in both directions, the
// size target, and epoch rotation.

#include <gtest/gtest.h>

#include "e3_fixture.h"

namespace armored::e3 {
namespace {

using testing::Pair;
using testing::reading;

class EveryAead : public ::testing::TestWithParam<crypto::AeadAlg> {};

TEST_P(EveryAead, ReadingsRoundTripAndMeetTheSizeTarget) {
  Pair p(GetParam());
  p.rotate();
  for (int i = 0; i < 300; ++i) {
    Bytes pt = reading(static_cast<std::uint8_t>(i));
    Bytes env = p.seal(pt);
    auto r = p.open(env);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(p.plain, pt);
    EXPECT_EQ(r->sequence, static_cast<std::uint64_t>(i));
    EXPECT_EQ(r->epoch, 1u);
    EXPECT_EQ(r->device_id, "patient-0042");
    EXPECT_EQ(r->alg, GetParam());
    // 52-byte reading, 3-byte kid: <= 76 bytes with a 16-byte tag, <= 68 with CCM's 8.
    const std::size_t tag = crypto::spec_of(GetParam()).tag_len;
    EXPECT_LE(env.size(), tag == 16 ? 76u : 68u);
    EXPECT_EQ(env.size(), sealed_size(GetParam(), 52, 3, static_cast<std::uint64_t>(i)));
  }
  EXPECT_EQ(p.opener->counters().opened, 300u);
}

TEST_P(EveryAead, CommandsRoundTripWithSeparateKeys) {
  Pair p(GetParam());
  p.rotate();
  const Bytes cmd = {'s', 'e', 't', ' ', '3', '0', 's'};
  for (int i = 0; i < 5; ++i) {
    Bytes env(sealed_size(GetParam(), cmd.size(), 3, static_cast<std::uint64_t>(i)));
    auto n = p.opener->seal_command(testing::kKid, cmd, env);
    ASSERT_TRUE(n) << n.error().message;
    ASSERT_EQ(*n, env.size());
    Bytes out(env.size());
    auto r = p.sealer->open_command(env, out);
    ASSERT_TRUE(r) << r.error().message;
    out.resize(r->plaintext_size);
    EXPECT_EQ(out, cmd);
    // A command is not a reading: the cloud refuses its own direction.
    EXPECT_EQ(p.open(env).error().code, E3Errc::kMalformed);
    // Replaying a command to the device is refused.
    EXPECT_EQ(p.sealer->open_command(env, out).error().code, E3Errc::kReplayed);
  }
  // A reading presented as a command (type bits changed) does not authenticate.
  Bytes env;
  for (int i = 0; i < 6; ++i) env = p.seal(reading());  // sequence 5: not yet in the command window
  env[0] = static_cast<std::uint8_t>((env[0] & 0x3f) | 0x40);
  Bytes out(env.size());
  EXPECT_EQ(p.sealer->open_command(env, out).error().code, E3Errc::kAuthFailed);
}

INSTANTIATE_TEST_SUITE_P(E3, EveryAead, ::testing::ValuesIn(crypto::kAllAeads));

TEST(E3Sizes, ExactBytesOnTheWire) {
  // header = 2 + kid + PIV; the reading is 52 bytes.
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAes128Gcm, 52, 3, 0), 2 + 3 + 1 + 52 + 16u);   // 74
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAes128Gcm, 52, 3, 255), 74u);
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAes128Gcm, 52, 3, 256), 75u);
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAes128Gcm, 52, 3, 65536), 76u);
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kChaCha20Poly1305, 52, 3, (1u << 24) - 1), 76u);
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAesCcm16_64_128, 52, 3, (1u << 24) - 1), 68u);
  EXPECT_EQ(max_sealed_size(crypto::AeadAlg::kAes256Gcm, 52, 3, (1u << 20) - 1), 76u);
  EXPECT_EQ(sealed_size(crypto::AeadAlg::kAes256Gcm, 52, 8, kMaxSequence), 2 + 8 + 5 + 52 + 16u);
}

TEST(E3Rotation, NewEpochNewKeysPreviousAcceptedDuringGrace) {
  Pair p;
  p.rotate();
  Bytes old1 = p.seal(reading(1));
  Bytes old2 = p.seal(reading(2));
  ASSERT_TRUE(p.open(old1));
  p.clock.advance(std::chrono::hours(1));
  p.rotate();
  EXPECT_EQ(p.sealer->epoch(), 2u);
  EXPECT_EQ(p.sealer->next_sequence(), 0u);  // sequence restarts with fresh keys
  Bytes fresh = p.seal(reading(3));
  EXPECT_EQ(fresh[1], 2);  // epoch id
  auto r = p.open(fresh);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->epoch, 2u);
  // The previous epoch's delayed envelope is still accepted inside the grace period...
  auto late = p.open(old2);
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->epoch, 1u);
  // ...and nothing of it after the grace period.
  Pair q;
  q.rotate();
  Bytes e1 = q.seal(reading());
  Bytes e1b = q.seal(reading());
  q.rotate();
  ASSERT_TRUE(q.open(e1));
  q.clock.advance(q.opener_config.grace_period);
  EXPECT_EQ(q.open(e1b).error().code, E3Errc::kExpiredEpoch);
  EXPECT_EQ(q.opener->counters().rejected_for(E3Errc::kExpiredEpoch), 1u);
}

TEST(E3Rotation, TwoRotationsDropTheOldestEpoch) {
  Pair p;
  p.rotate();
  Bytes e1 = p.seal(reading());
  p.rotate();
  p.rotate();
  EXPECT_EQ(p.open(e1).error().code, E3Errc::kUnknownEpoch);
}

TEST(E3Rotation, DueAfterIntervalOrMessageCount) {
  SealerConfig cfg;
  cfg.rotation_messages = 10;
  Pair p(crypto::AeadAlg::kAes128Gcm, cfg);
  EXPECT_TRUE(p.sealer->rotation_due());  // no epoch yet
  Bytes out(100);
  EXPECT_EQ(p.sealer->seal(reading(), out).error().code, E3Errc::kRotationRequired);
  p.rotate();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.sealer->seal(reading(), out));
  EXPECT_TRUE(p.sealer->rotation_due());
  EXPECT_EQ(p.sealer->seal(reading(), out).error().code, E3Errc::kRotationRequired);
  p.rotate();
  EXPECT_FALSE(p.sealer->rotation_due());
  p.clock.advance(std::chrono::hours(24) - std::chrono::seconds(1));
  EXPECT_FALSE(p.sealer->rotation_due());
  p.clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(p.sealer->rotation_due());
  EXPECT_EQ(p.sealer->seal(reading(), out).error().code, E3Errc::kRotationRequired);
}

TEST(E3Rotation, CurrentEpochExpiresAfterItsLifetime) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  p.clock.advance(p.opener_config.epoch_lifetime);
  EXPECT_EQ(p.open(env).error().code, E3Errc::kExpiredEpoch);
}

TEST(E3Rotation, DeviceEpochKeysDifferEachEpoch) {
  Pair p;
  p.rotate();
  Bytes a = p.seal(reading());
  p.rotate();
  Bytes b = p.seal(reading());
  // Same plaintext, same sequence number 0, different epoch keys.
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(Bytes(a.begin() + 6, a.end()), Bytes(b.begin() + 6, b.end()));
}

}  // namespace
}  // namespace armored::e3

namespace armored::e3 {
namespace {

TEST(E3Defaults, DeviceAeadFollowsTheCpu) {
  EXPECT_EQ(SealerConfig{}.alg, crypto::default_aead());
  testing::Pair p(SealerConfig{}.alg);
  p.rotate();
  auto r = p.open(p.seal(testing::reading()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alg, crypto::cpu_has_aes_acceleration() ? crypto::AeadAlg::kAes128Gcm
                                                        : crypto::AeadAlg::kChaCha20Poly1305);
}

}  // namespace
}  // namespace armored::e3
