// The opener's bounded set of keyed AEAD contexts (opener.h, "Memory"):
// a device whose contexts were handed to another epoch opens, seals and
// refuses replays exactly as before; the set never outgrows its bound; the
// kid index finds every device among many.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "e3/internal/aead_cache.h"
#include "e3_fixture.h"

namespace armored::e3 {
namespace {

const Bytes kCloud = {'c', 'l', 'o', 'u', 'd'};

// Several devices and one cloud whose opener keys at most `keyed` epochs.
struct Fleet {
  Fleet(std::size_t count, std::size_t keyed, crypto::AeadAlg alg = crypto::AeadAlg::kAes128Gcm)
      : cloud_key(crypto::EcPrivateKey::generate().value()) {
    OpenerConfig oc;
    oc.cloud_key_id = kCloud;
    oc.keyed_epochs = keyed;
    opener.emplace(Opener::create(oc, cloud_key, clock, &cloud_store).value());
    for (std::size_t i = 0; i < count; ++i) {
      auto d = std::make_unique<Device>();
      d->identity = crypto::EcPrivateKey::generate().value();
      d->kid = {0x10, static_cast<std::uint8_t>(i)};
      SealerConfig sc;
      sc.kid = d->kid;
      sc.alg = alg;
      sc.cloud_key_id = kCloud;
      d->sealer.emplace(
          Sealer::create(sc, d->identity, cloud_key.public_key().value(), clock, rng, d->store).value());
      EXPECT_TRUE(opener->add_device({d->kid, "patient-" + std::to_string(i), d->identity.public_key().value()}));
      devices.push_back(std::move(d));
    }
  }
  void announce(std::size_t i) {
    auto ann = devices[i]->sealer->start_epoch();
    ASSERT_TRUE(ann);
    ASSERT_TRUE(opener->accept_announcement(*ann));
  }
  Bytes seal(std::size_t i) {
    Bytes env(devices[i]->sealer->sealed_size(52));
    auto n = devices[i]->sealer->seal(testing::reading(static_cast<std::uint8_t>(i)), env);
    EXPECT_TRUE(n);
    env.resize(n ? *n : 0);
    return env;
  }
  // Opens and marks received, as the cloud does once the row is stored.
  E3Result<OpenedReading> open(std::size_t i, ByteSpan env) {
    Bytes out(env.size());
    auto r = opener->open(env, out);
    if (r) {
      EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r->plaintext_size)),
                testing::reading(static_cast<std::uint8_t>(i)));
      opener->mark_received(devices[i]->kid, r->epoch, r->sequence);
    }
    return r;
  }

  struct Device {
    crypto::EcPrivateKey identity = crypto::EcPrivateKey::generate().value();
    Bytes kid;
    MemoryStateStore store;
    std::optional<Sealer> sealer;
  };
  ManualClock clock;
  SeededRng rng{7};
  MemoryStateStore cloud_store;
  crypto::EcPrivateKey cloud_key;
  std::optional<Opener> opener;
  std::vector<std::unique_ptr<Device>> devices;
};

class EveryAeadKeyed : public ::testing::TestWithParam<crypto::AeadAlg> {};

TEST_P(EveryAeadKeyed, DevicesTakingTurnsOverOneKeyedEpochAllOpen) {
  Fleet f(3, 1, GetParam());
  for (std::size_t i = 0; i < 3; ++i) f.announce(i);
  for (int round = 0; round < 4; ++round) {
    for (std::size_t i = 0; i < 3; ++i) {
      auto r = f.open(i, f.seal(i));
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->device_id, "patient-" + std::to_string(i));
      EXPECT_LE(f.opener->keyed_epochs(), 1u);
    }
  }
  // Every open found another device's epoch keyed: each re-keyed it.
  EXPECT_EQ(f.opener->keyings(), 12u);
}

TEST_P(EveryAeadKeyed, ReplayRefusedAfterTheContextWentElsewhere) {
  Fleet f(2, 1, GetParam());
  f.announce(0);
  f.announce(1);
  const Bytes first = f.seal(0);
  ASSERT_TRUE(f.open(0, first));
  ASSERT_TRUE(f.open(1, f.seal(1)));  // device 1 takes the one keyed epoch
  Bytes out(first.size());
  EXPECT_EQ(f.opener->open(first, out).error().code, E3Errc::kReplayed);
  // Opened but not yet stored (not marked): the re-sent copy opens again,
  // keyed anew, and is refused once marked.
  const Bytes second = f.seal(0);
  ASSERT_TRUE(f.opener->open(second, out));
  ASSERT_TRUE(f.open(1, f.seal(1)));
  auto again = f.opener->open(second, out);
  ASSERT_TRUE(again) << again.error().message;
  f.opener->mark_received(f.devices[0]->kid, again->epoch, again->sequence);
  ASSERT_TRUE(f.open(1, f.seal(1)));
  EXPECT_EQ(f.opener->open(second, out).error().code, E3Errc::kReplayed);
}

TEST_P(EveryAeadKeyed, CommandsSealedAfterTheContextWentElsewhere) {
  Fleet f(2, 1, GetParam());
  f.announce(0);
  f.announce(1);
  const Bytes cmd = {'p', 'i', 'n', 'g'};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(f.open(1, f.seal(1)));  // device 1 holds the keyed epoch
    Bytes env(64);
    auto n = f.opener->seal_command(f.devices[0]->kid, cmd, env);
    ASSERT_TRUE(n) << n.error().message;
    env.resize(*n);
    Bytes out(env.size());
    auto r = f.devices[0]->sealer->open_command(env, out);
    ASSERT_TRUE(r) << r.error().message;
    out.resize(r->plaintext_size);
    EXPECT_EQ(out, cmd);
    // The same epoch's uplink context is keyed beside the downlink one.
    ASSERT_TRUE(f.open(0, f.seal(0)));
  }
}

INSTANTIATE_TEST_SUITE_P(E3, EveryAeadKeyed, ::testing::ValuesIn(crypto::kAllAeads));

TEST(OpenerMemory, KeyedEpochsStayWithinTheBound) {
  Fleet f(6, 4);
  for (std::size_t i = 0; i < 6; ++i) f.announce(i);
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < 6; ++i) {
      ASSERT_TRUE(f.open(i, f.seal(i)));
      EXPECT_LE(f.opener->keyed_epochs(), 4u);
    }
  }
  EXPECT_EQ(f.opener->keyed_epochs(), 4u);
  // Round robin over 6 with room for 4: every open re-keys.
  EXPECT_EQ(f.opener->keyings(), 18u);
  // The most recently used stay keyed: no new keying for them.
  ASSERT_TRUE(f.open(5, f.seal(5)));
  ASSERT_TRUE(f.open(4, f.seal(4)));
  EXPECT_EQ(f.opener->keyings(), 18u);
}

TEST(OpenerMemory, PreviousEpochKeepsOpeningAcrossEvictionDuringGrace) {
  Fleet f(2, 1);
  f.announce(0);
  f.announce(1);
  const Bytes old_epoch = f.seal(0);
  f.announce(0);  // rotation: the first epoch becomes the previous one
  ASSERT_TRUE(f.open(1, f.seal(1)));
  ASSERT_TRUE(f.open(0, old_epoch));
  ASSERT_TRUE(f.open(0, f.seal(0)));
  Bytes out(old_epoch.size());
  EXPECT_EQ(f.opener->open(old_epoch, out).error().code, E3Errc::kReplayed);
}

TEST(OpenerMemory, RestoredStateOpensAndRefusesReplays) {
  Fleet f(2, 1);
  f.announce(0);
  f.announce(1);
  const Bytes seen = f.seal(0);
  ASSERT_TRUE(f.open(0, seen));
  const Bytes state = f.opener->serialize();
  OpenerConfig oc;
  oc.cloud_key_id = kCloud;
  oc.keyed_epochs = 1;
  auto restored = Opener::create(oc, f.cloud_key, f.clock, nullptr).value();
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(restored.add_device(
        {f.devices[i]->kid, "patient-" + std::to_string(i), f.devices[i]->identity.public_key().value()}));
  }
  ASSERT_TRUE(restored.restore(state));
  EXPECT_EQ(restored.keyed_epochs(), 0u);  // nothing keyed until used
  EXPECT_EQ(restored.serialize(), state);
  Bytes out(seen.size());
  EXPECT_EQ(restored.open(seen, out).error().code, E3Errc::kReplayed);
  const Bytes other = f.seal(1);
  ASSERT_TRUE(restored.open(other, out));
  const Bytes next = f.seal(0);
  ASSERT_TRUE(restored.open(next, out));
  EXPECT_EQ(restored.keyed_epochs(), 1u);
}

TEST(OpenerMemory, KidIndexFindsEveryDeviceAmongMany) {
  ManualClock clock;
  OpenerConfig oc;
  oc.cloud_key_id = kCloud;
  auto opener = Opener::create(oc, crypto::EcPrivateKey::generate().value(), clock, nullptr).value();
  const auto pub = crypto::EcPrivateKey::generate().value().public_key().value();
  // Kids of every length, some equal in value but not in length (01 vs 00 01).
  std::vector<Bytes> kids;
  for (std::size_t i = 0; i < 3000; ++i) {
    Bytes kid(1 + i % 8, 0);
    for (std::size_t b = 0; b < kid.size() && b < 2; ++b) kid[kid.size() - 1 - b] = static_cast<std::uint8_t>(i >> (8 * b));
    kids.push_back(kid);
  }
  std::sort(kids.begin(), kids.end());
  kids.erase(std::unique(kids.begin(), kids.end()), kids.end());
  for (std::size_t i = 0; i < kids.size(); ++i) {
    ASSERT_TRUE(opener.add_device({kids[i], "d" + std::to_string(i), pub})) << i;
  }
  for (const auto& kid : kids) {
    EXPECT_FALSE(opener.add_device({kid, "again", pub})) << "duplicate kid accepted";
    EXPECT_EQ(opener.serialize_device(kid).empty(), false);
  }
  EXPECT_TRUE(opener.serialize_device(Bytes{0x7f, 0x7f, 0x7f}).empty());
  EXPECT_FALSE(opener.add_device({Bytes{}, "empty", pub}));
  EXPECT_FALSE(opener.add_device({Bytes(9, 1), "long", pub}));
}

// The identity key is held as its point and becomes an OpenSSL key only to
// verify an announcement; a point off the curve is refused there.
TEST(OpenerMemory, IdentityPointIsCheckedWhenAnAnnouncementIsVerified) {
  Fleet f(1, 4);
  f.announce(0);  // registered from an EcPublicKey
  auto good = f.devices[0]->identity.public_key().value().point();
  auto compressed = good;
  compressed[0] = 0x02;
  const Bytes kid2 = {0x20, 0x02}, kid3 = {0x20, 0x03};
  EXPECT_EQ(f.opener->add_device(kid2, "compressed", compressed).error().code, E3Errc::kBadConfig);
  auto off_curve = good;
  off_curve[64] ^= 0x01;
  ASSERT_TRUE(f.opener->add_device(kid2, "off-curve", off_curve));
  ASSERT_TRUE(f.opener->add_device(kid3, "by-point", good));
  auto announce_as = [&](const Bytes& kid) {
    SealerConfig sc;
    sc.kid = kid;
    sc.cloud_key_id = kCloud;
    MemoryStateStore store;
    auto s = Sealer::create(sc, f.devices[0]->identity, f.cloud_key.public_key().value(), f.clock, f.rng, store);
    return f.opener->accept_announcement(s.value().start_epoch().value());
  };
  EXPECT_EQ(announce_as(kid2).error().code, E3Errc::kBadConfig);
  EXPECT_TRUE(announce_as(kid3));
}

TEST(AeadCache, ForgottenEntryIsReusedBeforeAnyLiveOne) {
  SeededRng rng(3);
  auto material = [&](std::uint32_t epoch) {
    EpochSecrets s;
    s.epoch = epoch;
    rng.fill(s.master_secret);
    rng.fill(s.master_salt);
    return EpochMaterial::derive(Bytes{1, 2, 3}, s).value();
  };
  const EpochMaterial a = material(1), b = material(2), c = material(3);
  internal::AeadCache cache(2);
  internal::AeadCache::Ref ra, rb, rc;
  ASSERT_TRUE(cache.get(ra, a, MessageType::kUplink));
  ASSERT_TRUE(cache.get(rb, b, MessageType::kUplink));
  EXPECT_EQ(cache.size(), 2u);
  cache.forget(ra);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(ra.index, internal::AeadCache::kNone);
  ASSERT_TRUE(cache.get(rc, c, MessageType::kUplink));
  EXPECT_EQ(cache.size(), 2u);
  // b was not evicted for c: the forgotten entry was taken.
  const std::uint64_t misses = cache.misses();
  ASSERT_TRUE(cache.get(rb, b, MessageType::kUplink));
  EXPECT_EQ(cache.misses(), misses);
  // A stale reference (its entry now c's) misses instead of using c's keys.
  internal::AeadCache::Ref stale{rc.index, rc.tag + 1000};
  ASSERT_TRUE(cache.get(stale, a, MessageType::kUplink));
  EXPECT_EQ(cache.misses(), misses + 1);
  EXPECT_LE(cache.size(), 2u);
}

}  // namespace
}  // namespace armored::e3
