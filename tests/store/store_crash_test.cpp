// SIGKILL a process while it stores batches into SQLite: every batch whose
// store_batch had returned is in the reopened database, the database is
// intact, and storing the last batch again yields only duplicates.

#include <signal.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "store/store.h"
#include "support/process.h"

namespace armored::store {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string integrity(const fs::path& db) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(db.c_str(), &raw) != SQLITE_OK) return "cannot open";
  sqlite3_stmt* st = nullptr;
  std::string out = "no result";
  if (sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return out;
}

TEST(StoreCrash, SqliteKeepsEveryBatchThatReturnedAcrossSigkill) {
  testing::TempDir dir;
  const fs::path child = fs::path(ARMORED_BINARY_DIR) / "tests/store/store_crash_child";
  const fs::path db = dir / "cloud.db";
  constexpr std::uint64_t kBatch = 500;
  std::uint64_t stored = 0;  // rows in the database after the previous round
  for (int round = 0; round < 3; ++round) {
    const fs::path report = dir / ("report-" + std::to_string(round));
    const fs::path err = dir / "stderr";
    const std::uint64_t first_batch = stored / kBatch;
    {
      testing::Subprocess::Options o;
      o.stderr_path = err;
      testing::Subprocess proc({child.string(), db.string(), report.string(), std::to_string(first_batch)}, o);
      auto deadline = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < deadline) {
        std::string s = testing::slurp(report);
        if (std::count(s.begin(), s.end(), '\n') >= 10 + 5 * round) break;
        ASSERT_TRUE(proc.running()) << testing::slurp(err);
        std::this_thread::sleep_for(2ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(round));
      proc.signal(SIGKILL);
      ASSERT_TRUE(proc.wait(10s));
    }
    std::istringstream lines(testing::slurp(report));
    std::uint64_t batch = 0, n = 0, last_reported = 0, reported = 0;
    while (lines >> batch >> n) {
      EXPECT_EQ(batch, first_batch + reported);
      ++reported;
      last_reported = batch;
    }
    ASSERT_GT(reported, 0u);

    EXPECT_EQ(integrity(db), "ok");
    auto s = open_sqlite(db);
    ASSERT_TRUE(s) << s.error().message;
    auto count = (*s)->count_readings();
    ASSERT_TRUE(count);
    // Every reported batch is there; at most one more committed just before the kill.
    EXPECT_GE(*count, (last_reported + 1) * kBatch);
    EXPECT_LE(*count, (last_reported + 2) * kBatch);
    EXPECT_EQ(*count % kBatch, 0u);  // batches are atomic
    // Exactly once and in order for a sample device: sequence numbers 0..k-1.
    auto seqs = (*s)->sequences("dev-7", 1);
    ASSERT_TRUE(seqs);
    for (std::size_t i = 0; i < seqs->size(); ++i) ASSERT_EQ((*seqs)[i], i);
    stored = *count;
  }
}

}  // namespace
}  // namespace armored::store
