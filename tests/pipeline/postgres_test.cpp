// Fleet -> gateway -> cloud with the cloud storing in PostgreSQL (a fresh
// schema per test in ARMORED_PG_DSN, default "dbname=armored_test", which
// scripts/start-services.sh provides): every reading stored exactly once,
// also across a cloud killed with SIGKILL mid-stream and restarted.

#include <libpq-fe.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <random>
#include <thread>

#include "pg_schema.h"
#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::slurp;

using armored::testing::PgSchema;

class PostgresPipelineTest : public PipelineTest {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgSchema>("armored_pipeline");
    if (!db_->connected()) GTEST_FAIL() << db_->unreachable();  // make test starts it: never skip
    storage_toml_ = db_->storage_toml();
  }
  void TearDown() override { db_.reset(); }
  std::string pg(const std::string& query) { return db_->query(query); }
  std::int64_t pg_int(const std::string& query) { return db_->integer(query); }
  bool wait_pg_stored(std::int64_t n, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (db_->has_tables() && pg_int("SELECT count(*) FROM readings") >= n) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
  void expect_exactly_once_pg(std::int64_t sealed) {
    std::cout << "[ figures  ] sealed " << sealed << ", stored in PostgreSQL " << pg("SELECT count(*) FROM readings")
              << " from " << pg("SELECT count(DISTINCT device) FROM readings") << " devices" << std::endl;
    EXPECT_EQ(pg_int("SELECT count(*) FROM readings"), sealed);
    EXPECT_EQ(pg_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings) d"), sealed);
    EXPECT_EQ(pg("SELECT count(*) FROM (SELECT device, epoch FROM readings GROUP BY device, epoch "
                 "HAVING count(DISTINCT seq) <> max(seq) - min(seq) + 1) g"),
              "0")
        << "gaps in the stored sequence numbers";
  }

  std::unique_ptr<PgSchema> db_;
};

TEST_F(PostgresPipelineTest, EveryReadingStoredOnceAcrossACloudKill) {
  make_pki(30);
  auto cloud = start_cloud();
  ASSERT_GT(cloud_port_, 0) << slurp(dir() / "cloud1.err");
  auto gateway = start_gateway();
  auto fleet = start_fleet(30, 60, 12, gateway_udp_port_);
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(wait_pg_stored(1, 10s)) << "nothing stored before the crash" << slurp(dir() / "cloud1.err");
  cloud->signal(SIGKILL);
  ASSERT_TRUE(cloud->wait(5s).has_value());
  std::this_thread::sleep_for(1s);
  cloud = start_cloud();  // same schema and E3 state file

  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_TRUE(wait_pg_stored(f.readings, 60s));
  std::this_thread::sleep_for(1s);  // anything re-sent late would show up as a duplicate
  expect_exactly_once_pg(f.readings);
  EXPECT_EQ(pg_int("SELECT count(DISTINCT device) FROM readings"), 30);
  // What the gateway re-sent after the crash was dropped as replays; nothing else.
  EXPECT_EQ(pg_int("SELECT count(*) FROM security_events WHERE kind <> 'connected' AND (kind <> 'rejected_envelope' OR "
                   "reason NOT LIKE 'replayed%')"),
            0)
      << pg("SELECT kind || ': ' || reason FROM security_events");
  EXPECT_FALSE(std::filesystem::exists(db())) << "the cloud wrote SQLite although PostgreSQL was configured";
  EXPECT_EQ(gateway->stop(), 0);
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::pipeline_test
