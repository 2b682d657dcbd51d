// Behaviour specific to one backend: how it fails to open, and the
// durability settings it promises.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "backends.h"

namespace armored::store {
namespace {

TEST(SqliteStore, RefusesAPathItCannotCreate) {
  auto s = open_sqlite("/nonexistent-dir/armored.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, StoreErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("/nonexistent-dir/armored.db"), std::string::npos);
}

TEST(SqliteStore, UsesWalAndFullSync) {
  testing::TempDir dir;
  auto s = open_sqlite(dir / "a.db");
  ASSERT_TRUE(s) << s.error().message;
  // journal_mode=WAL is persistent in the file; a second connection sees it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "a.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_TRUE(SqliteOptions{}.synchronous_full);
}

TEST(SqliteStore, RefusesAFileThatIsNotADatabase) {
  testing::TempDir dir;
  FILE* f = std::fopen((dir / "junk.db").c_str(), "w");
  std::fputs("this is not an SQLite database, just some text long enough to have a header", f);
  std::fclose(f);
  auto s = open_sqlite(dir / "junk.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, StoreErrorCode::kUnavailable);
}

// The one case where the layouts differ: the same (device, epoch, seq) with a
// different timestamp. A sealed envelope cannot produce it (the timestamp is
// inside the authenticated plaintext and a device never reuses a sequence
// number in an epoch), so the time-ordered layout stores both.
// Both layouts keep (device, epoch, seq) unique, even for a sequence number
// reused with another timestamp (which only a device reusing a nonce could
// send): the stored ranges decide, not the table's key (docs/storage.md).
TEST(SqliteStore, LayoutsAgreeEvenForASequenceNumberReusedWithAnotherTimestamp) {
  for (auto layout : {ReadingsLayout::kTimeOrdered, ReadingsLayout::kDeviceOrdered}) {
    testing::TempDir dir;
    SqliteOptions o;
    o.layout = layout;
    auto s = open_sqlite(dir / "a.db", o);
    ASSERT_TRUE(s);
    ReadingRow a;
    a.device = "d";
    a.seq = 9;
    a.timestamp = 100;
    ReadingRow b = a;
    b.timestamp = 101;
    ASSERT_EQ((*s)->store_batch(std::span(&a, 1))->inserted, 1u);
    EXPECT_EQ((*s)->store_batch(std::span(&a, 1))->duplicates, 1u);  // redelivery: both layouts
    EXPECT_EQ((*s)->store_batch(std::span(&b, 1))->inserted, 0u);
    EXPECT_EQ(*(*s)->count_readings(), 1u);
  }
}

TEST(SqliteStore, AnExistingFileKeepsItsLayout) {
  testing::TempDir dir;
  SqliteOptions device;
  device.layout = ReadingsLayout::kDeviceOrdered;
  ReadingRow a;
  a.device = "d";
  a.seq = 9;
  a.timestamp = 100;
  { ASSERT_TRUE((*open_sqlite(dir / "a.db", device))->store_batch(std::span(&a, 1))); }
  auto s = open_sqlite(dir / "a.db");  // asks for time-ordered
  ASSERT_TRUE(s);
  a.timestamp = 101;
  EXPECT_EQ((*s)->store_batch(std::span(&a, 1))->duplicates, 1u);
}

TEST(PostgresStore, UnreachableServerIsATypedError) {
  auto s = open_postgres({"host=/nonexistent-socket-dir dbname=armored_test connect_timeout=2", "x"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, StoreErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("cannot connect"), std::string::npos);
}

TEST(PostgresStore, TwoConnectionsShareOneSchemaAndDeduplicateAcrossEachOther) {
  if (std::string why = test::PostgresBackend::unavailable(); !why.empty()) {
    if (test::in_ci()) GTEST_FAIL() << why;
    GTEST_SKIP() << why;
  }
  test::PostgresBackend b;
  auto a = b.open();
  auto c = b.open();
  ASSERT_TRUE(a && c);
  ReadingRow r;
  r.device = "d";
  r.seq = 1;
  r.key_id = {1};
  EXPECT_EQ((*a)->store_batch(std::span(&r, 1))->inserted, 1u);
  EXPECT_EQ((*c)->store_batch(std::span(&r, 1))->duplicates, 1u);
}

}  // namespace
}  // namespace armored::store
