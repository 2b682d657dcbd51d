// Both sealers of `armored fleet --sealer` (the C++ sealer of src/e3 and the
// device SDK's C library) against the cloud's real Opener: their envelopes
// open, and epochs and sequence numbers behave the same way across restarts
// (a new epoch at every start, docs/e3-protocol.md 7.1; no (epoch, sequence)
// twice, so no nonce twice).

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "common/file_io.h"
#include "device/device_sealer.h"
#include "e3/e3.h"
#include "support/process.h"

namespace armored::device {
namespace {

namespace fs = std::filesystem;
namespace t = armored::testing;

const std::string kDevice = "patient-0001";
const Bytes kKid = {0x4a, 0x7f, 0x01};
const Bytes kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

// One enrolled device (its key under pki/device/) and the cloud that opens
// what it seals.
struct World {
  explicit World(crypto::AeadAlg alg)
      : identity(crypto::EcPrivateKey::generate().value()), cloud_key(crypto::EcPrivateKey::generate().value()),
        keys{provision::Registry{kCloudKeyId, {provision::Enrolment{kDevice, kKid}}},
             cloud_key.public_key().value(), alg} {
    fs::create_directories(dir.path() / "pki" / "device");
    fs::create_directories(dir.path() / "state");  // as run_fleet does
    EXPECT_TRUE(write_file_atomic(dir / "pki/device/patient-0001.key", as_bytes(identity.to_pem()), 0600));
    e3::OpenerConfig oc;
    oc.cloud_key_id = kCloudKeyId;
    oc.replay_window = 1024;
    opener.emplace(e3::Opener::create(oc, cloud_key, clock, &cloud_store).value());
    EXPECT_TRUE(opener->add_device({kKid, kDevice, identity.public_key().value()}));
  }

  // Opens the device as `armored fleet` does at start (a new epoch) and
  // delivers its announcement.
  std::unique_ptr<DeviceSealer> start(SealerKind kind) {
    auto d = open_device_sealer(kind, keys, keys.registry.devices[0], dir / "pki", dir / "state", clock, rng);
    EXPECT_TRUE(d) << (d ? "" : d.error().message);
    if (!d) return nullptr;
    auto acc = opener->accept_announcement(d->sealer->announcement());
    EXPECT_TRUE(acc) << (acc ? "" : acc.error().message);
    return std::move(d->sealer);
  }

  // Seals `n` readings; each must open at the cloud to what was sealed.
  // Returns the (epoch, sequence) of each, in order.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> seal_and_open(DeviceSealer& s, int n) {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    for (int i = 0; i < n; ++i) {
      const Bytes reading(52, static_cast<std::uint8_t>(i));
      Bytes env(s.sealed_size(reading.size()));
      auto len = s.seal(reading, env);
      EXPECT_TRUE(len) << (len ? "" : len.error().message);
      if (!len) break;
      EXPECT_EQ(*len, env.size());
      Bytes plain(env.size());
      auto r = opener->open(env, plain);
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      if (!r) break;
      EXPECT_EQ(Bytes(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(r->plaintext_size)), reading);
      opener->mark_received(kKid, r->epoch, r->sequence);
      out.emplace_back(r->epoch, r->sequence);
    }
    return out;
  }

  t::TempDir dir;
  ManualClock clock;
  SystemRng rng;
  e3::MemoryStateStore cloud_store;
  crypto::EcPrivateKey identity;
  crypto::EcPrivateKey cloud_key;
  FleetKeys keys;
  std::optional<e3::Opener> opener;
};

// Three starts of one device with 300, 5 and 260 readings: each start is the
// next epoch, and within each epoch the numbers run from 0 without a repeat
// (crossing the 256-number reservation). The trace is what both sealers must
// produce alike.
std::vector<std::pair<std::uint32_t, std::uint64_t>> restart_trace(SealerKind kind, crypto::AeadAlg alg) {
  World w(alg);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> trace;
  for (int n : {300, 5, 260}) {
    auto s = w.start(kind);
    if (!s) return trace;
    auto part = w.seal_and_open(*s, n);
    EXPECT_EQ(part.size(), static_cast<std::size_t>(n));
    trace.insert(trace.end(), part.begin(), part.end());
  }
  return trace;
}

class DeviceSealers : public ::testing::TestWithParam<crypto::AeadAlg> {};

TEST_P(DeviceSealers, BothSealersEnvelopesOpenAtTheCloudAndEpochsAndNumbersBehaveAlike) {
  const auto cxx = restart_trace(SealerKind::kCxx, GetParam());
  const auto sdk = restart_trace(SealerKind::kDeviceSdk, GetParam());
  ASSERT_EQ(cxx.size(), 565u);
  EXPECT_EQ(sdk, cxx);
  std::set<std::pair<std::uint32_t, std::uint64_t>> seen(sdk.begin(), sdk.end());
  EXPECT_EQ(seen.size(), sdk.size()) << "an (epoch, sequence) pair, hence a nonce, was used twice";
  EXPECT_EQ(sdk.front(), std::make_pair(1u, std::uint64_t{0}));
  EXPECT_EQ(sdk[300], std::make_pair(2u, std::uint64_t{0}));  // a new epoch at every start
  EXPECT_EQ(sdk.back(), std::make_pair(3u, std::uint64_t{259}));
}

INSTANTIATE_TEST_SUITE_P(Aeads, DeviceSealers,
                         ::testing::Values(crypto::AeadAlg::kAes128Gcm, crypto::AeadAlg::kAes256Gcm,
                                           crypto::AeadAlg::kChaCha20Poly1305, crypto::AeadAlg::kAesCcm16_64_128),
                         [](const auto& p) { return "Cose" + std::to_string(static_cast<int>(p.param)); });

class EachSealer : public ::testing::TestWithParam<SealerKind> {};

TEST_P(EachSealer, OpensTheCloudsCommandsOnceAndRefusesReplaysAndOtherEpochs) {
  World w(crypto::AeadAlg::kAes128Gcm);
  auto s = w.start(GetParam());
  ASSERT_TRUE(s);
  const Bytes command(40, 0x5c);
  Bytes env(256);
  auto n = w.opener->seal_command(kKid, command, env);
  ASSERT_TRUE(n) << n.error().message;
  env.resize(*n);
  Bytes plain(256);
  auto opened = s->open_command(env, plain);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->epoch, 1u);
  EXPECT_EQ(Bytes(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(opened->plaintext_size)), command);
  auto again = s->open_command(env, plain);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, e3::E3Errc::kReplayed);
  // A fresh command, altered on the way.
  Bytes env2(256);
  auto n2 = w.opener->seal_command(kKid, command, env2);
  ASSERT_TRUE(n2);
  env2.resize(*n2);
  env2.back() ^= 1;
  auto forged = s->open_command(env2, plain);
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().code, e3::E3Errc::kAuthFailed);
  // After a restart (epoch 2), epoch 1's commands no longer open.
  s.reset();
  auto s2 = w.start(GetParam());
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->epoch(), 2u);
  Bytes old(256);
  auto n3 = w.opener->seal_command(kKid, command, old);  // sealed for epoch 2 now
  ASSERT_TRUE(n3);
  EXPECT_TRUE(s2->open_command(ByteSpan(old.data(), *n3), plain));
  auto stale = s2->open_command(env, plain);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, e3::E3Errc::kUnknownEpoch);
}

TEST_P(EachSealer, RotationIsDueAfterADayAndTheNextEpochOpens) {
  World w(crypto::AeadAlg::kAes128Gcm);
  auto s = w.start(GetParam());
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->rotation_due());
  w.clock.advance(std::chrono::hours(24));
  EXPECT_TRUE(s->rotation_due());
  Bytes env(s->sealed_size(52));
  auto refused = s->seal(Bytes(52, 1), env);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, e3::E3Errc::kRotationRequired);
  auto ann = s->start_epoch();
  ASSERT_TRUE(ann) << ann.error().message;
  EXPECT_EQ(*ann, s->announcement());
  ASSERT_TRUE(w.opener->accept_announcement(*ann));
  EXPECT_EQ(s->epoch(), 2u);
  EXPECT_EQ(w.seal_and_open(*s, 3).size(), 3u);
}

TEST_P(EachSealer, RefusesAStateDirectoryTheOtherSealerWrote) {
  World w(crypto::AeadAlg::kAes128Gcm);
  const SealerKind other = GetParam() == SealerKind::kCxx ? SealerKind::kDeviceSdk : SealerKind::kCxx;
  ASSERT_TRUE(w.start(other));
  auto d = open_device_sealer(GetParam(), w.keys, w.keys.registry.devices[0], w.dir / "pki", w.dir / "state", w.clock,
                              w.rng);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("device patient-0001: "), std::string::npos) << d.error().message;
  EXPECT_NE(d.error().message.find("--sealer " + std::string(sealer_name(other))), std::string::npos)
      << d.error().message;
}

TEST_P(EachSealer, ACorruptStateFileIsAnErrorNamingTheDevice) {
  World w(crypto::AeadAlg::kAes128Gcm);
  fs::create_directories(w.dir / "state");
  ASSERT_TRUE(write_file_atomic(sealer_state_path(GetParam(), w.dir / "state", kDevice), as_bytes("not a state"), 0600));
  auto d = open_device_sealer(GetParam(), w.keys, w.keys.registry.devices[0], w.dir / "pki", w.dir / "state", w.clock,
                              w.rng);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("device patient-0001: "), std::string::npos) << d.error().message;
}

INSTANTIATE_TEST_SUITE_P(Sealers, EachSealer, ::testing::Values(SealerKind::kCxx, SealerKind::kDeviceSdk),
                         [](const auto& p) { return std::string(p.param == SealerKind::kCxx ? "Cxx" : "DeviceSdk"); });

TEST(SealerNames, ParseAndPrintTheFleetOptionValues) {
  EXPECT_EQ(parse_sealer("cxx"), SealerKind::kCxx);
  EXPECT_EQ(parse_sealer("device-sdk"), SealerKind::kDeviceSdk);
  EXPECT_EQ(parse_sealer("c"), std::nullopt);
  EXPECT_EQ(sealer_name(SealerKind::kDeviceSdk), "device-sdk");
}

TEST(FleetHelp, ShowsTheSealerOptionWithAnExample) {
  auto help = t::run({t::armored_binary().string(), "fleet", "--help"}, std::chrono::seconds(20));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--sealer"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("device-sdk"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--sealer device-sdk\n"), std::string::npos) << "no example in:\n" << help.out;
  auto bad = t::run({t::armored_binary().string(), "fleet", "--devices", "1", "--pki", "p", "--e3", "e", "--state", "s",
                     "--sealer", "rust"},
                    std::chrono::seconds(20));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--sealer"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace armored::device
