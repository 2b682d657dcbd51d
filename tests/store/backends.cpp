#include "backends.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>

namespace armored::store::test {

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string PostgresBackend::conninfo() {
  const char* dsn = std::getenv("ARMORED_PG_DSN");
  return dsn && *dsn ? dsn : "dbname=armored_test";
}

std::string PostgresBackend::unavailable() {
  PGconn* c = PQconnectdb(conninfo().c_str());
  std::string why;
  if (PQstatus(c) != CONNECTION_OK) {
    why = "PostgreSQL unreachable with \"" + conninfo() + "\" (set ARMORED_PG_DSN or run scripts/start-services.sh): " +
          PQerrorMessage(c);
  }
  PQfinish(c);
  return why;
}

PostgresBackend::PostgresBackend() : dsn(conninfo()) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  schema = "armored_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 100000);
}

PostgresBackend::~PostgresBackend() {
  PGconn* c = PQconnectdb(dsn.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    std::string sql = "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE";
    PQclear(PQexec(c, sql.c_str()));
  }
  PQfinish(c);
}

}  // namespace armored::store::test
