// Persistence: reserve-ahead on the sender, replay state on the receiver.

#include <gtest/gtest.h>

#include <set>

#include "e3_fixture.h"

namespace armored::e3 {
namespace {

using testing::Pair;
using testing::reading;

TEST(E3State, ReservationIsWrittenBeforeNumbersAreUsed) {
  SealerConfig cfg;
  cfg.reserve_ahead = 10;
  Pair p(crypto::AeadAlg::kAes128Gcm, cfg);
  p.rotate();
  const std::size_t after_epoch = p.device_store.saves();
  EXPECT_EQ(p.sealer->reserved_until(), 10u);
  for (int i = 0; i < 10; ++i) p.seal(reading());
  EXPECT_EQ(p.device_store.saves(), after_epoch);  // all inside the first reservation
  p.seal(reading());                               // number 10 needs a new reservation
  EXPECT_EQ(p.device_store.saves(), after_epoch + 1);
  EXPECT_EQ(p.sealer->reserved_until(), 20u);
}

TEST(E3State, FailedReservationSealsNothing) {
  SealerConfig cfg;
  cfg.reserve_ahead = 2;
  Pair p(crypto::AeadAlg::kAes128Gcm, cfg);
  p.rotate();
  p.seal(reading());
  p.seal(reading());
  p.device_store.set_failing(true);
  Bytes out(100, 0);
  auto r = p.sealer->seal(reading(), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E3Errc::kPersistFailed);
  EXPECT_EQ(out, Bytes(100, 0));
  EXPECT_EQ(p.sealer->next_sequence(), 2u);
  p.device_store.set_failing(false);
  EXPECT_TRUE(p.sealer->seal(reading(), out));
}

TEST(E3State, RestartedSenderSkipsReservedNumbers) {
  SealerConfig cfg;
  cfg.reserve_ahead = 16;
  Pair p(crypto::AeadAlg::kChaCha20Poly1305, cfg);
  p.rotate();
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 5; ++i) {
    auto r = p.open(p.seal(reading()));
    ASSERT_TRUE(r);
    seen.insert(r->sequence);
  }
  // "Crash": a new Sealer from the last persisted bytes only.
  Sealer restarted = p.make_sealer();
  ASSERT_TRUE(restarted.restore(p.device_store.data()));
  EXPECT_EQ(restarted.epoch(), 1u);
  EXPECT_EQ(restarted.next_sequence(), 16u);
  p.sealer.emplace(std::move(restarted));
  for (int i = 0; i < 40; ++i) {
    auto r = p.open(p.seal(reading()));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(seen.insert(r->sequence).second) << "sequence reused: " << r->sequence;
  }
}

TEST(E3State, RestartedReceiverRejectsReplays) {
  Pair p;
  p.rotate();
  std::vector<Bytes> envs;
  for (int i = 0; i < 10; ++i) envs.push_back(p.seal(reading()));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(p.open(envs[i]));
  const Bytes saved = p.opener->serialize();
  Opener restarted = p.make_opener();
  ASSERT_TRUE(restarted.restore(saved));
  p.opener.emplace(std::move(restarted));
  EXPECT_EQ(p.opener->current_epoch(testing::kKid), 1u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(p.open(envs[i]).error().code, E3Errc::kReplayed) << i;
  for (int i = 6; i < 10; ++i) EXPECT_TRUE(p.open(envs[i])) << i;
  // And an old announcement still cannot roll it back.
}

TEST(E3State, RestartedCloudKeepsCommandNumbersUnique) {
  OpenerConfig ocfg;
  ocfg.reserve_ahead = 4;
  Pair p(crypto::AeadAlg::kAes128Gcm, {}, ocfg);
  p.rotate();
  Bytes out(100);
  std::set<std::uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    auto n = p.opener->seal_command(testing::kKid, as_bytes("x"), out);
    ASSERT_TRUE(n);
    Bytes pt(100);
    auto r = p.sealer->open_command(ByteSpan(out).first(*n), pt);
    ASSERT_TRUE(r);
    seqs.insert(r->sequence);
  }
  Opener restarted = p.make_opener();
  ASSERT_TRUE(restarted.restore(p.cloud_store.data()));  // state saved at the last reservation
  p.opener.emplace(std::move(restarted));
  for (int i = 0; i < 3; ++i) {
    auto n = p.opener->seal_command(testing::kKid, as_bytes("y"), out);
    ASSERT_TRUE(n);
    Bytes pt(100);
    auto r = p.sealer->open_command(ByteSpan(out).first(*n), pt);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(seqs.insert(r->sequence).second);
  }
}

// Two clouds (the fronts of a scaled cloud) seal commands for one device:
// a shared store hands out every number once, so no nonce is used twice,
// and the first number is above what a reservation had claimed before.
TEST(E3State, SharedSequenceStoreGivesTwoOpenersDisjointNumbers) {
  struct Shared final : StateStore {
    std::uint64_t next = 0;
    int calls = 0;
    Status save(ByteSpan) override { return fail("a shared store never takes whole states"); }
    bool allocates_sequences() const override { return true; }
    Expected<std::uint64_t> allocate_sequence(ByteSpan, std::uint32_t, std::uint64_t at_least) override {
      ++calls;
      next = std::max(next, at_least);
      return next++;
    }
  } shared;
  Pair p;
  p.rotate();
  // A reservation from before the store was shared: 0..255 may have been used.
  Bytes out(100);
  ASSERT_TRUE(p.opener->seal_command(testing::kKid, as_bytes("x"), out));
  const Bytes state = p.opener->serialize();
  auto make = [&] {
    auto o = Opener::create(p.opener_config, p.cloud_key, p.clock, &shared).value();
    EXPECT_TRUE(o.add_device({testing::kKid, "patient-0042", p.identity.public_key().value()}));
    EXPECT_TRUE(o.restore(state));
    return o;
  };
  Opener front1 = make(), front2 = make();
  std::set<std::uint64_t> seqs;
  for (int i = 0; i < 6; ++i) {
    Opener& front = i % 2 == 0 ? front1 : front2;
    auto n = front.seal_command(testing::kKid, as_bytes("y"), out);
    ASSERT_TRUE(n) << n.error().message;
    Bytes pt(100);
    auto r = p.sealer->open_command(ByteSpan(out).first(*n), pt);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_GE(r->sequence, 256u) << "a number the reservation had claimed";
    EXPECT_TRUE(seqs.insert(r->sequence).second) << "sequence reused: " << r->sequence;
  }
  EXPECT_EQ(shared.calls, 6);
}

TEST(E3State, DeviceCommandWindowSurvivesRestart) {
  Pair p;
  p.rotate();
  Bytes env(64);
  auto n = p.opener->seal_command(testing::kKid, as_bytes("open valve"), env);
  ASSERT_TRUE(n);
  env.resize(*n);
  Bytes out(64);
  ASSERT_TRUE(p.sealer->open_command(env, out));
  Sealer rebooted = p.make_sealer();
  ASSERT_TRUE(rebooted.restore(p.device_store.data()));
  EXPECT_EQ(rebooted.open_command(env, out).error().code, E3Errc::kReplayed);
  // Without durable storage the command is refused, not half-accepted.
  auto n2 = p.opener->seal_command(testing::kKid, as_bytes("close valve"), out);
  ASSERT_TRUE(n2);
  Bytes env2(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n2));
  p.device_store.set_failing(true);
  Bytes pt(64, 0xee);
  EXPECT_EQ(rebooted.open_command(env2, pt).error().code, E3Errc::kPersistFailed);
  p.device_store.set_failing(false);
  EXPECT_TRUE(rebooted.open_command(env2, pt));
}

TEST(E3State, CommandsWithoutStoreAreRefused) {
  Pair p;
  p.rotate();
  auto o = Opener::create(p.opener_config, p.cloud_key, p.clock, nullptr).value();
  ASSERT_TRUE(o.add_device({testing::kKid, "x", p.identity.public_key().value()}));
  ASSERT_TRUE(o.accept_announcement(p.sealer->announcement()));
  Bytes out(64);
  EXPECT_EQ(o.seal_command(testing::kKid, as_bytes("x"), out).error().code, E3Errc::kBadConfig);
}

TEST(E3State, GarbageStateIsRefused) {
  Pair p;
  EXPECT_EQ(p.sealer->restore(Bytes{0x01, 0x02}).error().code, E3Errc::kBadConfig);
  EXPECT_EQ(p.opener->restore(Bytes{0x80}).error().code, E3Errc::kBadConfig);
  p.rotate();
  Bytes state = p.device_store.data();
  Sealer other = p.make_sealer();
  EXPECT_FALSE(other.restore(ByteSpan(state).first(state.size() - 1)));  // torn write
  state[0] = 0x87;  // a 7-element array is not a sealer state
  EXPECT_FALSE(other.restore(state));
}

TEST(E3State, StateFileIsPrivate) {
  const auto dir = std::filesystem::temp_directory_path() / ("e3-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  FileStateStore store(dir / "device.state");
  ASSERT_TRUE(store.save(as_bytes("abc")));
  EXPECT_EQ(std::filesystem::status(store.path()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(store.load().value(), Bytes({'a', 'b', 'c'}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace armored::e3
