#pragma once
// A fixed, deterministic device and cloud for the E3 fuzz target: the same
// keys every run, so seeds sealed once keep reaching the AEAD and the
// replay window.

#include <array>

#include "common/clock.h"
#include "common/rng.h"
#include "e3/e3.h"

namespace armored::e3::fuzz {

inline const Bytes kKid = {0xf0, 0x0d, 0x01};
inline const Bytes kCloudKeyId = {'f', 'z'};

inline crypto::EcPrivateKey key_from(std::uint8_t fill) {
  Bytes d(32, fill);
  return crypto::EcPrivateKey::from_scalar(d).value();
}

struct World {
  ManualClock clock;
  SeededRng rng{1234};
  MemoryStateStore store;
  crypto::EcPrivateKey identity = key_from(0x11);
  crypto::EcPrivateKey cloud = key_from(0x22);
  Sealer sealer = make_sealer();
  Opener opener = make_opener();
  Bytes announcement;

  World() {
    announcement = sealer.start_epoch().value();
    (void)opener.accept_announcement(announcement);
  }
  Sealer make_sealer() {
    SealerConfig cfg;
    cfg.kid = kKid;
    cfg.cloud_key_id = kCloudKeyId;
    cfg.alg = crypto::AeadAlg::kAes128Gcm;  // fixed, so the seeds open on every machine
    return Sealer::create(cfg, identity, cloud.public_key().value(), clock, rng, store).value();
  }
  Opener make_opener() {
    OpenerConfig cfg;
    cfg.cloud_key_id = kCloudKeyId;
    auto o = Opener::create(cfg, cloud, clock, nullptr).value();
    (void)o.add_device({kKid, "fuzz-device", identity.public_key().value()});
    return o;
  }
};

}  // namespace armored::e3::fuzz
