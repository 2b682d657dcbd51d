// Every rejection rule of docs/e3-protocol.md section 6 for data envelopes.

#include <gtest/gtest.h>

#include "e3/announcement.h"
#include "e3_fixture.h"

namespace armored::e3 {
namespace {

using testing::Pair;
using testing::reading;

class Tampering : public ::testing::TestWithParam<crypto::AeadAlg> {};

TEST_P(Tampering, EveryFlippedByteIsRejected) {
  Pair p(GetParam());
  p.rotate();
  p.seal(reading());  // sequence 0 unused, so the envelope below has PIV 0x01
  const Bytes env = p.seal(reading(7));
  for (std::size_t i = 0; i < env.size(); ++i) {
    for (int mask : {0x01, 0x80, 0xff}) {
      Bytes bad = env;
      bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
      auto r = p.open(bad);
      ASSERT_FALSE(r) << "byte " << i << " mask " << int(mask) << " accepted";
    }
  }
  // Nothing above moved the replay window: the genuine envelope still opens.
  ASSERT_TRUE(p.open(env));
  EXPECT_EQ(p.opener->counters().opened, 1u);
  EXPECT_GT(p.opener->counters().rejected_for(E3Errc::kAuthFailed), 0u);
  EXPECT_GT(p.opener->counters().rejected_for(E3Errc::kMalformed), 0u);
  EXPECT_GT(p.opener->counters().rejected_for(E3Errc::kUnknownKeyId), 0u);
  EXPECT_GT(p.opener->counters().rejected_for(E3Errc::kUnknownEpoch), 0u);
}

TEST_P(Tampering, TruncatedAndExtendedAreRejected) {
  Pair p(GetParam());
  p.rotate();
  const Bytes env = p.seal(reading());
  for (std::size_t len = 0; len < env.size(); ++len) {
    auto r = p.open(ByteSpan(env).first(len));
    ASSERT_FALSE(r) << "prefix " << len;
    EXPECT_TRUE(r.error().code == E3Errc::kMalformed || r.error().code == E3Errc::kAuthFailed) << len;
  }
  for (std::uint8_t extra : {std::uint8_t{0x00}, std::uint8_t{0x5a}}) {
    Bytes longer = env;
    longer.push_back(extra);
    EXPECT_EQ(p.open(longer).error().code, E3Errc::kAuthFailed);
  }
  ASSERT_TRUE(p.open(env));
}

INSTANTIATE_TEST_SUITE_P(E3, Tampering, ::testing::ValuesIn(crypto::kAllAeads));

TEST(E3Negative, WrongKeyIdIsUnknown) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  env[2] ^= 0x01;  // first kid byte
  auto r = p.open(env);
  EXPECT_EQ(r.error().code, E3Errc::kUnknownKeyId);
  EXPECT_EQ(p.opener->counters().rejected_for(E3Errc::kUnknownKeyId), 1u);
}

TEST(E3Negative, ReplayedEnvelopeIsRejected) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  ASSERT_TRUE(p.open(env));
  EXPECT_EQ(p.open(env).error().code, E3Errc::kReplayed);
  EXPECT_EQ(p.opener->counters().rejected_for(E3Errc::kReplayed), 1u);
}

TEST(E3Negative, ReorderedWithinWindowAcceptedOnce) {
  Pair p;
  p.rotate();
  std::vector<Bytes> envs;
  for (int i = 0; i < 64; ++i) envs.push_back(p.seal(reading()));
  // Newest first, then the rest in reverse: all inside the 64-wide window.
  for (int i = 63; i >= 0; --i) ASSERT_TRUE(p.open(envs[i])) << i;
  for (int i = 0; i < 64; ++i) EXPECT_EQ(p.open(envs[i]).error().code, E3Errc::kReplayed) << i;
}

// Section 7.4: lateness alone never refuses an authentic reading; left of
// the window it is opened and flagged, and storage decides by its identity.
TEST(E3Negative, OutsideWindowIsOpenedAndFlagged_7_4) {
  Pair p;
  p.rotate();
  std::vector<Bytes> envs;
  for (int i = 0; i < 70; ++i) envs.push_back(p.seal(reading()));
  ASSERT_TRUE(p.open(envs[69]));
  auto late = p.open(envs[5]);  // 69 - 5 = 64: outside
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->below_window);
  EXPECT_EQ(late->sequence, 5u);
  auto inside = p.open(envs[6]);  // 63 behind: inside
  ASSERT_TRUE(inside);
  EXPECT_FALSE(inside->below_window);
  EXPECT_EQ(p.opener->counters().rejected_for(E3Errc::kTooOld), 0u);
  EXPECT_EQ(p.opener->counters().below_window, 1u);
  // Flagged or not, a forged late envelope still fails authentication.
  Bytes forged = envs[4];
  forged.back() ^= 0x01;
  EXPECT_EQ(p.open(forged).error().code, E3Errc::kAuthFailed);
}

// Section 7.4: the window records what was durably received. An envelope
// opened but not marked (its commit failed, the cloud crashed) opens again.
TEST(E3Negative, OpenedButNotMarkedOpensAgain_7_4) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  ASSERT_TRUE(p.open_only(env));
  ASSERT_TRUE(p.open_only(env));
  p.opener->mark_received(p.sealer_config.kid, p.sealer->epoch(), 0);
  EXPECT_EQ(p.open_only(env).error().code, E3Errc::kReplayed);
}

TEST(E3Negative, ConfigurableWindow) {
  OpenerConfig ocfg;
  ocfg.replay_window = 200;
  Pair p(crypto::AeadAlg::kAes128Gcm, {}, ocfg);
  p.rotate();
  std::vector<Bytes> envs;
  for (int i = 0; i < 260; ++i) envs.push_back(p.seal(reading()));
  ASSERT_TRUE(p.open(envs[259]));
  EXPECT_FALSE(p.open(envs[60])->below_window);
  EXPECT_TRUE(p.open(envs[59])->below_window);
}

TEST(E3Negative, OversizedIsRejected) {
  OpenerConfig ocfg;
  ocfg.max_plaintext = 64;
  SealerConfig scfg;
  scfg.max_plaintext = 128;
  Pair p(crypto::AeadAlg::kAes128Gcm, scfg, ocfg);
  p.rotate();
  Bytes big = p.seal(Bytes(65, 1));
  EXPECT_EQ(p.open(big).error().code, E3Errc::kOversized);
  Bytes huge(5000, 0);
  EXPECT_EQ(p.open(huge).error().code, E3Errc::kOversized);
  Bytes out(400);
  EXPECT_EQ(p.sealer->seal(Bytes(129, 0), out).error().code, E3Errc::kOversized);
  EXPECT_EQ(p.opener->counters().rejected_for(E3Errc::kOversized), 2u);
}

TEST(E3Negative, UnknownEpochBeforeAnnouncement) {
  Pair p;
  ASSERT_TRUE(p.sealer->start_epoch());  // announcement lost in transit
  Bytes env = p.seal(reading());
  EXPECT_EQ(p.open(env).error().code, E3Errc::kUnknownEpoch);
  ASSERT_TRUE(p.opener->accept_announcement(p.sealer->announcement()));  // re-sent
  EXPECT_TRUE(p.open(env));
}

TEST(E3Negative, SmallOutputBuffers) {
  Pair p;
  p.rotate();
  Bytes env = p.seal(reading());
  Bytes small(10);
  EXPECT_EQ(p.opener->open(env, small).error().code, E3Errc::kBufferTooSmall);
  EXPECT_EQ(p.sealer->seal(reading(), small).error().code, E3Errc::kBufferTooSmall);
  EXPECT_TRUE(p.open(env));  // the failed attempt did not consume the number
}

}  // namespace
}  // namespace armored::e3

namespace armored::e3 {
namespace {

TEST(E3Negative, EnvelopeMovedToAnotherDevicesKidFailsAuthentication) {
  testing::Pair p;
  p.rotate();
  // A second device registered at the same cloud, with its own epoch.
  auto other_identity = crypto::EcPrivateKey::generate().value();
  const Bytes other_kid = {0x4a, 0x7f, 0x02};
  ASSERT_TRUE(p.opener->add_device({other_kid, "patient-0043", other_identity.public_key().value()}));
  SealerConfig cfg = p.sealer_config;
  cfg.kid = other_kid;
  MemoryStateStore store;
  auto other = Sealer::create(cfg, other_identity, p.cloud_key.public_key().value(), p.clock, p.rng, store).value();
  ASSERT_TRUE(p.opener->accept_announcement(other.start_epoch().value()));
  Bytes env = p.seal(testing::reading());
  std::copy(other_kid.begin(), other_kid.end(), env.begin() + 2);
  EXPECT_EQ(p.open(env).error().code, E3Errc::kAuthFailed);
  // Each device's own envelopes still open, attributed to the right identity.
  Bytes mine = p.seal(testing::reading());
  EXPECT_EQ(p.open(mine)->device_id, "patient-0042");
  Bytes theirs(other.sealed_size(52));
  ASSERT_TRUE(other.seal(testing::reading(), theirs));
  EXPECT_EQ(p.open(theirs)->device_id, "patient-0043");
}

TEST(E3Negative, EpochJumpByMultipleOf256DropsThePreviousEpoch) {
  testing::Pair p;
  p.rotate();
  Bytes old = p.seal(testing::reading());
  AnnouncementFields f;
  f.kid = testing::kKid;
  f.epoch = 257;  // same epoch id (1) as the current epoch
  f.alg = crypto::AeadAlg::kAes128Gcm;
  f.cloud_key_id = testing::kCloudKeyId;
  f.ephemeral_public = crypto::EcPrivateKey::generate()->public_key()->point();
  ASSERT_TRUE(p.opener->accept_announcement(build_announcement(f, p.identity).value()));
  EXPECT_EQ(p.opener->current_epoch(testing::kKid), 257u);
  // Epoch id 1 now names epoch 257 only: the old envelope cannot open.
  EXPECT_EQ(p.open(old).error().code, E3Errc::kAuthFailed);
}

TEST(E3Negative, BatchOfEnvelopesOpensEachOnItsOwn) {
  testing::Pair p;
  p.rotate();
  Bytes a = p.seal(testing::reading(1));
  Bytes b = p.seal(testing::reading(2));
  Bytes bad = p.seal(testing::reading(3));
  bad.back() ^= 1;
  const ByteSpan parts[] = {a, bad, b, a};
  const Bytes batch = encode_batch(parts).value();
  ASSERT_EQ(batch.size(), 2 + 4 * 2 + a.size() * 4);
  std::vector<E3Errc> results;
  const auto entries = decode_batch(batch);
  ASSERT_TRUE(entries);
  for (ByteSpan m : *entries) {
    auto r = p.open(m);
    results.push_back(r ? E3Errc::kInternal : r.error().code);  // kInternal marks success here
  }
  EXPECT_EQ(results, (std::vector<E3Errc>{E3Errc::kInternal, E3Errc::kAuthFailed, E3Errc::kInternal,
                                          E3Errc::kReplayed}));
}

}  // namespace
}  // namespace armored::e3
