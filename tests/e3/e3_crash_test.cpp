// Crash safety with real processes: a device or cloud process is SIGKILLed
// mid-stream and restarted from what it persisted. No (epoch, sequence) pair
// (hence no nonce) is ever used twice, and no envelope is accepted twice.

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/file_io.h"
#include "common/hex.h"
#include "e3/e3.h"
#include "support/process.h"

namespace armored::e3 {
namespace {

using armored::testing::Subprocess;
using armored::testing::TempDir;
using armored::testing::slurp;
using namespace std::chrono_literals;

const Bytes kKid = {0x0d, 0xe1, 0xce};
const Bytes kCloudKeyId = {'c', '1'};

// Complete lines only: a line cut by the kill has no newline yet.
std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::string all = slurp(p);
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(all.substr(start, nl - start));
  }
  return out;
}

bool wait_for_lines(const std::filesystem::path& p, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (lines_of(p).size() >= n) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

struct Keys {
  crypto::EcPrivateKey identity = crypto::EcPrivateKey::generate().value();
  crypto::EcPrivateKey cloud = crypto::EcPrivateKey::generate().value();
  void write(const TempDir& dir) const {
    ASSERT_TRUE(write_file_atomic(dir / "identity.pem", as_bytes(identity.to_pem())));
    ASSERT_TRUE(write_file_atomic(dir / "cloud.pem", as_bytes(cloud.to_pem())));
  }
};

std::string helper() { return E3_CRASH_HELPER; }

TEST(E3Crash, KilledDeviceNeverReusesANonce) {
  TempDir dir;
  Keys keys;
  keys.write(dir);
  ASSERT_TRUE(write_file_atomic(dir / "cloud_pub.pem", as_bytes(keys.cloud.public_key()->to_pem())));
  const auto log = dir / "wire.log";
  std::size_t target = 0;
  for (int run = 0; run < 4; ++run) {
    target += 170;
    Subprocess device({helper(), "seal", dir.path().string()});
    ASSERT_TRUE(wait_for_lines(log, target, 60s)) << "device made no progress in run " << run;
    device.signal(SIGKILL);
    auto st = device.wait(10s);
    ASSERT_TRUE(st);
    EXPECT_EQ(*st, 128 + SIGKILL);
  }
  // The cloud opens everything the device ever emitted, in order.
  ManualClock clock;
  OpenerConfig cfg;
  cfg.cloud_key_id = kCloudKeyId;
  auto opener = Opener::create(cfg, keys.cloud, clock, nullptr).value();
  ASSERT_TRUE(opener.add_device({kKid, "device-1", keys.identity.public_key().value()}));
  std::set<std::pair<std::uint32_t, std::uint64_t>> used;
  std::set<std::uint32_t> epochs;
  std::size_t data = 0, gaps = 0;
  std::map<std::uint32_t, std::uint64_t> last_seq;
  Bytes out(256);
  for (const auto& line : lines_of(log)) {
    Bytes msg = from_hex(line.substr(2)).value();
    if (line[0] == 'A') {
      auto r = opener.accept_announcement(msg);
      ASSERT_TRUE(r) << r.error().message;
      continue;
    }
    ++data;
    ASSERT_TRUE(parse_header(msg));
    auto r = opener.open(msg, out);
    ASSERT_TRUE(r) << "envelope " << data << ": " << r.error().message;
    EXPECT_TRUE(used.insert({r->epoch, r->sequence}).second) << "nonce reuse at epoch " << r->epoch << " seq "
                                                            << r->sequence;
    if (last_seq.count(r->epoch) && r->sequence != last_seq[r->epoch] + 1) ++gaps;
    last_seq[r->epoch] = r->sequence;
    epochs.insert(r->epoch);
  }
  EXPECT_GE(data, 600u);
  EXPECT_GE(epochs.size(), 2u);  // rotation every 250 readings happened across restarts
  // Gaps (a restart resuming past its reservation) are timing-dependent and
  // only reported; state_test checks the resume point deterministically.
  std::printf("device runs: 4, envelopes %zu, epochs %zu, reservation gaps %zu\n", data, epochs.size(), gaps);
}

TEST(E3Crash, KilledCloudNeverAcceptsAReplay) {
  TempDir dir;
  Keys keys;
  keys.write(dir);
  ASSERT_TRUE(write_file_atomic(dir / "identity_pub.pem", as_bytes(keys.identity.public_key()->to_pem())));
  // The device side in-process: one epoch, 400 readings, then a rotation and 100 more.
  ManualClock clock;
  SystemRng rng;
  MemoryStateStore store;
  SealerConfig scfg;
  scfg.kid = kKid;
  scfg.cloud_key_id = kCloudKeyId;
  auto sealer = Sealer::create(scfg, keys.identity, keys.cloud.public_key().value(), clock, rng, store).value();
  std::ostringstream input;
  const std::size_t total = 500;
  Bytes env(128);
  for (std::size_t i = 0; i < total; ++i) {
    if (i == 0 || i == 400) input << "A " << to_hex(sealer.start_epoch().value()) << "\n";
    auto n = sealer.seal(Bytes(52, 1), env).value();
    input << "D " << to_hex(ByteSpan(env).first(n)) << "\n";
  }
  ASSERT_TRUE(write_file_atomic(dir / "input.txt", as_bytes(input.str())));
  const auto log = dir / "opened.log";
  {
    Subprocess cloud({helper(), "open", dir.path().string(), (dir / "input.txt").string()});
    ASSERT_TRUE(wait_for_lines(log, 120, 60s));
    cloud.signal(SIGKILL);
    ASSERT_EQ(cloud.wait(10s), 128 + SIGKILL);
  }
  const std::size_t first_run = lines_of(log).size();
  ASSERT_LT(first_run, total + 2) << "the first run finished before it was killed";
  {
    // Restart and feed the whole stream again: a full replay of what came before.
    Subprocess cloud({helper(), "open", dir.path().string(), (dir / "input.txt").string()});
    ASSERT_EQ(cloud.wait(120s), 0);
  }
  std::map<std::pair<int, int>, int> accepted;
  std::size_t replays_refused = 0;
  for (const auto& line : lines_of(log)) {
    int e = 0, s = 0;
    if (std::sscanf(line.c_str(), "OK %d %d", &e, &s) == 2) ++accepted[{e, s}];
    if (line == "ERR replayed" || line == "ERR duplicate") ++replays_refused;
  }
  for (const auto& [k, count] : accepted) EXPECT_EQ(count, 1) << "accepted twice: " << k.first << "/" << k.second;
  // None lost: the window is marked only after the store, so a kill between
  // the two leaves a stored reading whose copy the store recognises.
  EXPECT_EQ(accepted.size(), total);
  EXPECT_GE(replays_refused, first_run - 2);  // everything the first run accepted
  std::printf("cloud: first run logged %zu lines before SIGKILL; %zu accepted once, %zu replays refused\n",
              first_run, accepted.size(), replays_refused);
}

}  // namespace
}  // namespace armored::e3
