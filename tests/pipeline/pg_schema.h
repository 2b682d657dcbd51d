#pragma once
// A PostgreSQL schema of its own for one pipeline test (the cloud's tables
// go there), dropped at the end, and one-value queries on it. The server
// is ARMORED_PG_DSN's (default dbname=armored_test, which
// scripts/start-services.sh provides).

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

namespace armored::testing {

inline std::string pg_conninfo() {
  const char* dsn = std::getenv("ARMORED_PG_DSN");
  return dsn && *dsn ? dsn : "dbname=armored_test";
}

class PgSchema {
 public:
  // Connects; the schema is named `prefix`_<pid>_<random>. Check connected().
  explicit PgSchema(const std::string& prefix) : conn_(PQconnectdb(pg_conninfo().c_str())) {
    std::random_device rd;
    name_ = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
  }
  ~PgSchema() {
    if (connected()) PQclear(PQexec(conn_, ("DROP SCHEMA IF EXISTS \"" + name_ + "\" CASCADE").c_str()));
    PQfinish(conn_);
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Why not connected, to print.
  std::string unreachable() const {
    return "PostgreSQL unreachable with \"" + pg_conninfo() +
           "\" (set ARMORED_PG_DSN or run scripts/start-services.sh): " + PQerrorMessage(conn_);
  }
  const std::string& name() const { return name_; }
  // The cloud's [storage] section for this schema.
  std::string storage_toml() const {
    return "[storage]\nbackend = \"postgresql\"\npostgresql_conninfo = \"" + pg_conninfo() +
           "\"\npostgresql_schema = \"" + name_ + "\"\n";
  }
  // The first column of a query on the schema, rows joined by newlines; a
  // failed query fails the test and gives "".
  std::string query(const std::string& sql) {
    PGresult* r = PQexec(conn_, ("SET search_path TO \"" + name_ + "\"; " + sql).c_str());
    std::string out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out += std::string(i ? "\n" : "") + PQgetvalue(r, i, 0);
    } else {
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(r);
    }
    PQclear(r);
    return out;
  }
  // -1 when the query gave nothing.
  std::int64_t integer(const std::string& sql) {
    auto v = query(sql);
    return v.empty() ? -1 : std::stoll(v);
  }
  // The cloud has created its tables.
  bool has_tables() {
    PGresult* r = PQexec(conn_, ("SELECT to_regclass('\"" + name_ + "\".readings') IS NOT NULL").c_str());
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && std::string(PQgetvalue(r, 0, 0)) == "t";
    PQclear(r);
    return ok;
  }

 private:
  PGconn* conn_;
  std::string name_;
};

}  // namespace armored::testing
