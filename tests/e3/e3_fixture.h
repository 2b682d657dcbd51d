#pragma once
// A device and a cloud wired together in memory, with a manual clock and a
// seeded RNG, for the E3 protocol tests.

#include <gtest/gtest.h>

#include <memory>

#include "common/clock.h"
#include "common/rng.h"
#include "crypto/ec.h"
#include "e3/e3.h"

namespace armored::e3::testing {

inline const Bytes kKid = {0x4a, 0x7f, 0x01};
inline const Bytes kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

struct Pair {
  explicit Pair(crypto::AeadAlg alg = crypto::AeadAlg::kAes128Gcm, SealerConfig cfg = {}, OpenerConfig ocfg = {})
      : identity(crypto::EcPrivateKey::generate().value()), cloud_key(crypto::EcPrivateKey::generate().value()) {
    cfg.kid = kKid;
    cfg.alg = alg;
    cfg.cloud_key_id = kCloudKeyId;
    sealer_config = cfg;
    ocfg.cloud_key_id = kCloudKeyId;
    opener_config = ocfg;
    sealer.emplace(make_sealer());
    opener.emplace(make_opener());
  }

  Sealer make_sealer() {
    return Sealer::create(sealer_config, identity, cloud_key.public_key().value(), clock, rng, device_store).value();
  }
  Opener make_opener() {
    auto o = Opener::create(opener_config, cloud_key, clock, &cloud_store).value();
    EXPECT_TRUE(o.add_device({kKid, "patient-0042", identity.public_key().value()}));
    return o;
  }

  // Starts an epoch on the device and delivers its announcement.
  void rotate() {
    auto ann = sealer->start_epoch();
    ASSERT_TRUE(ann) << ann.error().message;
    auto acc = opener->accept_announcement(*ann);
    ASSERT_TRUE(acc) << acc.error().message;
  }

  Bytes seal(ByteSpan pt) {
    Bytes out(sealer->sealed_size(pt.size()));
    auto n = sealer->seal(pt, out);
    EXPECT_TRUE(n) << (n ? "" : n.error().message);
    if (!n) return {};
    EXPECT_EQ(*n, out.size());
    return out;
  }

  // Opens and, as a cloud does once the reading is stored, marks it received.
  E3Result<OpenedReading> open(ByteSpan env) {
    auto r = open_only(env);
    if (r) opener->mark_received(sealer_config.kid, r->epoch, r->sequence);
    return r;
  }
  // Opens without marking: the reading is not stored (yet).
  E3Result<OpenedReading> open_only(ByteSpan env) {
    plain.assign(env.size(), 0);
    auto r = opener->open(env, plain);
    if (r) plain.resize(r->plaintext_size);
    return r;
  }

  ManualClock clock;
  SeededRng rng{42};
  MemoryStateStore device_store;
  MemoryStateStore cloud_store;
  crypto::EcPrivateKey identity;
  crypto::EcPrivateKey cloud_key;
  SealerConfig sealer_config;
  OpenerConfig opener_config;
  std::optional<Sealer> sealer;
  std::optional<Opener> opener;
  Bytes plain;
};

inline Bytes reading(std::uint8_t fill = 0x42) { return Bytes(52, fill); }

}  // namespace armored::e3::testing
