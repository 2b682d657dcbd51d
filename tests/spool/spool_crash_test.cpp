// A real crash: a child process appends from four threads (group commit,
// segment rolls, acks) and is killed with SIGKILL at an arbitrary moment.
// The reopened spool must hold every record whose append had returned,
// exactly once, in order, and nothing at or below the persisted ack cursor.

#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "spool_testing.h"
#include "support/process.h"

namespace armored::spool {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Origin {
  int round;
  int thread;
  std::uint64_t n;
};

std::string expected_payload(const Origin& o) {
  return "r" + std::to_string(o.round) + " t" + std::to_string(o.thread) + " n" + std::to_string(o.n) + " " +
         std::string(o.n % 200, 'x');
}

std::size_t count_lines(const fs::path& p) {
  std::string s = armored::testing::slurp(p);
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(SpoolCrash, SigkillDuringAppendsLosesNothingThatWasAcknowledged) {
  armored::testing::TempDir dir;
  const fs::path spool_dir = dir / "spool";
  const fs::path child = fs::path(ARMORED_BINARY_DIR) / "tests/spool/spool_crash_child";
  ASSERT_TRUE(fs::exists(child)) << child;
  constexpr int kThreads = 4;
  std::map<std::uint64_t, Origin> reported;
  std::uint64_t max_reported_ack = 0;

  for (int round = 0; round < 4; ++round) {
    fs::path report = dir / ("report-" + std::to_string(round));
    {
      armored::testing::Subprocess::Options opts;
      opts.stderr_path = dir / ("stderr-" + std::to_string(round));
      armored::testing::Subprocess proc({child.string(), spool_dir.string(), report.string(),
                                         std::to_string(round), std::to_string(kThreads)},
                                        opts);
      auto deadline = std::chrono::steady_clock::now() + 30s;
      while (count_lines(report) < 1500u + 300u * static_cast<unsigned>(round) &&
             std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(proc.running()) << armored::testing::slurp(opts.stderr_path);
        std::this_thread::sleep_for(5ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3 * round));
      proc.signal(SIGKILL);
      auto status = proc.wait(10s);
      ASSERT_TRUE(status);
      EXPECT_EQ(*status, 128 + SIGKILL) << armored::testing::slurp(opts.stderr_path);
    }
    std::istringstream lines(armored::testing::slurp(report));
    std::string line;
    std::size_t this_round = 0;
    while (std::getline(lines, line)) {
      std::istringstream f(line);
      if (line.rfind("A ", 0) == 0) {
        std::string a;
        std::uint64_t id;
        f >> a >> id;
        max_reported_ack = std::max(max_reported_ack, id);
        continue;
      }
      std::uint64_t id, n;
      int t;
      f >> id >> t >> n;
      ASSERT_FALSE(f.fail()) << line;
      ASSERT_TRUE(reported.emplace(id, Origin{round, t, n}).second) << "id " << id << " returned twice";
      ++this_round;
    }
    ASSERT_GT(this_round, 1000u);

    auto s = test::open_ok(spool_dir);
    ASSERT_TRUE(s);
    auto stats = s->stats();
    EXPECT_GE(stats.acked_id, max_reported_ack);
    auto pending = test::all_pending(*s);
    ASSERT_FALSE(pending.empty());
    // Contiguous ids right after the ack cursor: in order, no gaps, no repeats.
    EXPECT_EQ(pending.front().id, stats.acked_id + 1);
    for (std::size_t i = 1; i < pending.size(); ++i) ASSERT_EQ(pending[i].id, pending[i - 1].id + 1);
    // Every reported record above the cursor is there, byte for byte.
    std::size_t present = 0;
    for (const auto& [id, origin] : reported) {
      if (id <= stats.acked_id) continue;
      ASSERT_LE(id, pending.back().id) << "reported id " << id << " lost";
      const auto& rec = pending[id - pending.front().id];
      ASSERT_EQ(as_string(rec.payload), expected_payload(origin)) << "id " << id;
      ++present;
    }
    EXPECT_GT(present, 0u);
    // Records on disk that were never reported were in flight at the kill:
    // at most one per thread, and only from this round.
    std::size_t unreported = 0;
    for (const auto& rec : pending) {
      if (!reported.count(rec.id)) {
        ++unreported;
        EXPECT_EQ(as_string(rec.payload).rfind("r" + std::to_string(round) + " ", 0), 0u);
      }
    }
    EXPECT_LE(unreported, std::size_t{kThreads});
    // Per thread, the sequence numbers are increasing without repeats.
    std::map<std::pair<int, int>, std::uint64_t> last_n;
    for (const auto& rec : pending) {
      auto it = reported.find(rec.id);
      if (it == reported.end()) continue;
      auto key = std::make_pair(it->second.round, it->second.thread);
      auto prev = last_n.find(key);
      if (prev != last_n.end()) {
        EXPECT_GT(it->second.n, prev->second);
      }
      last_n[key] = it->second.n;
    }
  }
  EXPECT_GT(max_reported_ack, 0u);  // the acks and segment deletions were exercised too
}

}  // namespace
}  // namespace armored::spool
