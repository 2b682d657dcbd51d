// The E3 state journal: announcements persist one device entry each, so the
// cost per announcement does not grow with the fleet, and a restart restores
// every device's epoch, replay window and command reservation.

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>

#include "cloud/internal/e3_state_file.h"
#include "common/clock.h"
#include "common/file_io.h"
#include "common/rng.h"
#include "e3/e3.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

const Bytes kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

Bytes kid_of(std::size_t i) {
  return {0x5a, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
}

struct Fleet {
  explicit Fleet(std::size_t n) : cloud_key(crypto::EcPrivateKey::generate().value()) {
    for (std::size_t i = 0; i < n; ++i) identities.push_back(crypto::EcPrivateKey::generate().value());
    device_stores.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      e3::SealerConfig cfg;
      cfg.kid = kid_of(i);
      cfg.cloud_key_id = kCloudKeyId;
      sealers.push_back(e3::Sealer::create(cfg, identities[i], cloud_key.public_key().value(), clock, rng,
                                           device_stores[i])
                            .value());
    }
  }
  e3::Opener opener(e3::StateStore* store) {
    e3::OpenerConfig oc;
    oc.cloud_key_id = kCloudKeyId;
    auto o = e3::Opener::create(oc, cloud_key, clock, store).value();
    for (std::size_t i = 0; i < identities.size(); ++i) {
      EXPECT_TRUE(o.add_device({kid_of(i), "dev-" + std::to_string(i), identities[i].public_key().value()}));
    }
    return o;
  }
  Bytes seal(std::size_t i, std::uint8_t fill) {
    Bytes pt(20, fill);
    Bytes out(sealers[i].sealed_size(pt.size()));
    EXPECT_TRUE(sealers[i].seal(pt, out));
    return out;
  }

  ManualClock clock;
  SeededRng rng{7};
  crypto::EcPrivateKey cloud_key;
  std::vector<crypto::EcPrivateKey> identities;
  std::vector<e3::MemoryStateStore> device_stores;
  std::vector<e3::Sealer> sealers;
};

// Announces device i's new epoch to `opener` and persists what capture() chose.
void announce(Fleet& f, std::size_t i, e3::Opener& opener, E3StateFile& file) {
  auto ann = f.sealers[i].start_epoch();
  ASSERT_TRUE(ann);
  auto acc = opener.accept_announcement(*ann);
  ASSERT_TRUE(acc) << acc.error().message;
  const Bytes kid(acc->kid.begin(), acc->kid.end());
  ASSERT_TRUE(file.persist(file.capture(opener, std::span<const Bytes>(&kid, 1))));
}

TEST(E3StateJournal, RestartRestoresEveryDevicesEpochWindowAndReservation) {
  armored::testing::TempDir tmp;
  constexpr std::size_t kDevices = 300;
  Fleet fleet(kDevices);
  std::vector<Bytes> first_readings;
  {
    E3StateFile file(tmp / "cloud.e3state");
    auto opener = fleet.opener(&file);
    ASSERT_TRUE(file.load(opener));
    ASSERT_TRUE(file.write(file.next_generation(), opener.serialize()));  // a snapshot before the fleet starts
    for (std::size_t i = 0; i < kDevices; ++i) announce(fleet, i, opener, file);
    // Device 0 announces twice: the newer epoch must win on restart.
    announce(fleet, 0, opener, file);
    for (std::size_t i = 0; i < kDevices; ++i) {
      first_readings.push_back(fleet.seal(i, 1));
      Bytes out(64);
      auto opened = opener.open(first_readings.back(), out);
      ASSERT_TRUE(opened);
      // Stored: the window records it (the cloud marks only committed readings).
      opener.mark_received(kid_of(i), opened->epoch, opened->sequence);
      // The window moved: persisted as one entry, as an announcement would be.
      ASSERT_TRUE(file.save_device_record(opener.serialize_device(kid_of(i))));
    }
    // A command reservation is one entry too.
    Bytes cmd(128), got(128);
    auto sealed = opener.seal_command(kid_of(5), Bytes(4, 9), cmd);
    ASSERT_TRUE(sealed);
    ASSERT_TRUE(fleet.sealers[5].open_command(ByteSpan(cmd.data(), *sealed), got));
    EXPECT_GT(file.journal_bytes(), 0u);
    // Crash here: no shutdown snapshot.
  }
  E3StateFile file(tmp / "cloud.e3state");
  auto opener = fleet.opener(&file);
  ASSERT_TRUE(file.load(opener));
  EXPECT_EQ(file.journal_bytes(), 0u) << "load compacts the journal into the snapshot";
  for (std::size_t i = 0; i < kDevices; ++i) {
    ASSERT_EQ(opener.current_epoch(kid_of(i)), fleet.sealers[i].epoch()) << "device " << i;
    Bytes out(64);
    auto replay = opener.open(first_readings[i], out);
    ASSERT_FALSE(replay) << "device " << i << ": a reading from before the crash opened twice";
    EXPECT_EQ(replay.error().code, e3::E3Errc::kReplayed);
    ASSERT_TRUE(opener.open(fleet.seal(i, 2), out)) << "device " << i;
  }
  // Command numbers resume at the reservation, never below a used one: the
  // device (which saw number 0) accepts the next command.
  Bytes cmd(128), got(128);
  auto n = opener.seal_command(kid_of(5), Bytes(4, 9), cmd);
  ASSERT_TRUE(n);
  auto opened = fleet.sealers[5].open_command(ByteSpan(cmd.data(), *n), got);
  ASSERT_TRUE(opened) << opened.error().message;
}

// What one announcement appends is one device entry, whatever the fleet size;
// the old design rewrote the whole state (every enrolled device) each time.
TEST(E3StateJournal, CostPerAnnouncementDoesNotGrowWithTheFleet) {
  auto bytes_per_announcement = [](std::size_t devices) {
    armored::testing::TempDir tmp;
    Fleet fleet(devices);
    E3StateFile file(tmp / "cloud.e3state");
    auto opener = fleet.opener(&file);
    EXPECT_TRUE(file.load(opener));
    for (std::size_t i = 0; i + 1 < devices; ++i) announce(fleet, i, opener, file);
    const auto before = file.journal_bytes();
    announce(fleet, devices - 1, opener, file);
    const auto whole = opener.serialize().size();
    return std::pair{file.journal_bytes() - before, whole};
  };
  auto [small, small_whole] = bytes_per_announcement(10);
  auto [large, large_whole] = bytes_per_announcement(400);
  std::printf("journal bytes per announcement: %zu (10 devices), %zu (400 devices); whole state %zu / %zu\n",
              static_cast<std::size_t>(small), static_cast<std::size_t>(large), small_whole, large_whole);
  EXPECT_EQ(small, large);
  EXPECT_GT(large_whole, 30 * large) << "the whole state is what each announcement used to write";
  EXPECT_GT(large_whole, 20 * small_whole / 2);
}

TEST(E3StateJournal, TornLastEntryIsDroppedAndCorruptEntryRefused) {
  armored::testing::TempDir tmp;
  Fleet fleet(3);
  {
    E3StateFile file(tmp / "cloud.e3state");
    auto opener = fleet.opener(&file);
    ASSERT_TRUE(file.load(opener));
    for (std::size_t i = 0; i < 3; ++i) announce(fleet, i, opener, file);
  }
  const auto journal = tmp / "cloud.e3state.journal";
  Bytes j = read_file(journal, 1 << 20).value();
  {
    Bytes torn = j;
    torn.resize(torn.size() - 7);  // the crash cut the last append
    ASSERT_TRUE(write_file_atomic(journal, torn));
    E3StateFile file(tmp / "cloud.e3state");
    auto opener = fleet.opener(&file);
    ASSERT_TRUE(file.load(opener));
    EXPECT_EQ(opener.current_epoch(kid_of(0)), fleet.sealers[0].epoch());
    EXPECT_EQ(opener.current_epoch(kid_of(2)), std::nullopt) << "its PUBLISH was never acknowledged";
  }
  // A complete entry whose content is damaged is an error, not silently skipped.
  armored::testing::TempDir tmp2;
  {
    E3StateFile file(tmp2 / "cloud.e3state");
    auto opener = fleet.opener(&file);
    ASSERT_TRUE(file.load(opener));
    announce(fleet, 1, opener, file);
  }
  Bytes bad = read_file(tmp2 / "cloud.e3state.journal", 1 << 20).value();
  bad[12] ^= 0xff;  // first byte of the entry's CBOR
  ASSERT_TRUE(write_file_atomic(tmp2 / "cloud.e3state.journal", bad));
  E3StateFile file(tmp2 / "cloud.e3state");
  auto opener = fleet.opener(&file);
  EXPECT_FALSE(file.load(opener));
}

}  // namespace
}  // namespace armored::cloud
