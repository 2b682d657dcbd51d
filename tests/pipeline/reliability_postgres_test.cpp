// The "nothing lost" faults of the PostgreSQL backend (docs/reliability.md):
// the server restarted (fast and immediate) and stopped for a while under
// load, on a private server so the shared test cluster is not disturbed.
// The cloud must neither die nor acknowledge what is not committed, must
// carry on by itself, and every reading answered by the gateway must be
// stored exactly once.

#include <libpq-fe.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>

#include "pg_server.h"
#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;

class PostgresFaultTest : public PipelineTest {
 protected:
  void SetUp() override {
    if (!pg_.ok()) GTEST_FAIL() << "private PostgreSQL: " << pg_.error();
    storage_toml_ = "[storage]\nbackend = \"postgresql\"\npostgresql_conninfo = \"" + pg_.conninfo() +
                    "\"\npostgresql_schema = \"armored\"\n";
  }

  // One integer from the cloud's schema; -1 when the server is away.
  std::int64_t pg_int(const std::string& query) {
    PGconn* c = PQconnectdb(pg_.conninfo().c_str());
    std::int64_t v = -1;
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, ("SET search_path TO armored; " + query).c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) v = std::stoll(PQgetvalue(r, 0, 0));
      PQclear(r);
    }
    PQfinish(c);
    return v;
  }

  bool wait_for_pg_stored(std::int64_t n, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pg_int("SELECT count(*) FROM readings") >= n) return true;
      std::this_thread::sleep_for(300ms);
    }
    return false;
  }

  static bool long_run() {
    const char* l = std::getenv("ARMORED_FAULTS_LONG");
    return l && *l && std::string(l) != "0";
  }

  // The run: fleet through the gateway into the cloud on PostgreSQL, the
  // fault 2 s after the first reading is stored, then the row. `make faults`
  // runs it at the size of the "nothing lost" table: 200 devices, 2,000
  // readings/s for 60 s (120,000 readings).
  void run_fault(const std::string& name, const std::function<void()>& fault) {
    const int devices = long_run() ? 200 : 20;
    make_pki(devices);
    auto cloud = start_cloud();
    auto gateway = start_gateway();
    auto fleet = start_fleet(devices, 300, long_run() ? 60 : 14, gateway_udp_port_);
    ASSERT_TRUE(wait_for_pg_stored(1, 15s));
    std::this_thread::sleep_for(2s);
    fault();
    auto f = finish_fleet(*fleet);
    EXPECT_EQ(f.exit_code, 0);
    EXPECT_EQ(f.unacknowledged, 0);
    ASSERT_TRUE(wait_for_pg_stored(f.readings_acknowledged, long_run() ? 180s : 60s))
        << pg_int("SELECT count(*) FROM readings");
    std::this_thread::sleep_for(1s);
    const std::int64_t stored = pg_int("SELECT count(*) FROM readings");
    const std::int64_t distinct = pg_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings) d");
    const bool alive = cloud->running();
    std::cout << "[ fault    ] " << name << " | sent " << f.readings << " | stored " << stored << " | lost "
              << (f.readings - distinct) << " | duplicated " << (stored - distinct)
              << " | recovered without a manual step " << (alive ? "yes" : "no") << std::endl;
    EXPECT_EQ(distinct, f.readings);
    EXPECT_EQ(stored, distinct);
    EXPECT_EQ(f.readings_acknowledged, stored);
    EXPECT_TRUE(alive) << "the cloud must outlive its database's restart";
    auto gaps = run(armored({"--json", "report", "gaps", "--config", (dir() / "cloud.toml").string()}), 60s);
    EXPECT_EQ(gaps.exit_code, 0) << gaps.out << gaps.err;
    // Nothing refused as a replay of what was never stored.
    EXPECT_EQ(pg_int("SELECT count(*) FROM security_events WHERE kind = 'rejected_envelope' AND reason NOT IN"
                     " ('replayed', 'redelivered')"),
              0);
    const std::string err = slurp(dir() / "cloud1.err");
    EXPECT_NE(err.find("retrying until storage works again"), std::string::npos) << err;
    EXPECT_NE(err.find("storage works again after"), std::string::npos) << err;
    EXPECT_EQ(gateway->stop(), 0);
    stop_cloud(cloud);
  }

  PgServer pg_;
};

TEST_F(PostgresFaultTest, ServerRestartedFastUnderLoadNothingLost) {
  run_fault("PostgreSQL restarted (fast) under load", [&] { ASSERT_TRUE(pg_.restart("fast")); });
}

TEST_F(PostgresFaultTest, ServerRestartedImmediateUnderLoadNothingLost) {
  run_fault("PostgreSQL restarted (immediate: a crash) under load", [&] { ASSERT_TRUE(pg_.restart("immediate")); });
}

TEST_F(PostgresFaultTest, ServerStoppedForSecondsUnderLoadNothingLost) {
  // `make faults` (ARMORED_FAULTS_LONG=1) holds it down 30 s.
  run_fault(long_run() ? "PostgreSQL stopped 30 s under load" : "PostgreSQL stopped 6 s under load", [&] {
    ASSERT_TRUE(pg_.stop());
    std::this_thread::sleep_for(long_run() ? 30s : 6s);
    ASSERT_TRUE(pg_.start());
  });
}

}  // namespace
}  // namespace armored::pipeline_test
