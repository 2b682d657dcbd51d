#pragma once
// The two store backends as test fixtures, so one typed suite runs against
// both. PostgreSQL: conninfo from ARMORED_PG_DSN (default "dbname=armored_test"),
// a fresh schema per test, dropped afterwards.

#include <memory>
#include <string>

#include "store/store.h"
#include "support/process.h"

namespace armored::store::test {

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  testing::TempDir dir;
  StoreResult<std::unique_ptr<Store>> open() { return open_sqlite(dir / "armored.db"); }
  // Empty when usable; otherwise why not.
  static std::string unavailable() { return {}; }
};

struct SqliteDeviceOrderedBackend {
  static constexpr const char* kName = "sqlite_device_ordered";
  testing::TempDir dir;
  StoreResult<std::unique_ptr<Store>> open() {
    SqliteOptions o;
    o.layout = ReadingsLayout::kDeviceOrdered;
    return open_sqlite(dir / "armored.db", o);
  }
  static std::string unavailable() { return {}; }
};

struct PostgresBackend {
  static constexpr const char* kName = "postgresql";
  PostgresBackend();
  ~PostgresBackend();
  StoreResult<std::unique_ptr<Store>> open() { return open_postgres({dsn, schema}); }
  static std::string unavailable();
  static std::string conninfo();
  std::string dsn;
  std::string schema;
};

// Several processes writing at once (the scaled mode's workers).
struct PostgresSharedBackend : PostgresBackend {
  static constexpr const char* kName = "postgresql_shared";
  StoreResult<std::unique_ptr<Store>> open() {
    PostgresOptions o{dsn, schema};
    o.shared_writers = true;
    return open_postgres(o);
  }
};

// True when env CI=true: an unreachable PostgreSQL then fails instead of skipping.
bool in_ci();

}  // namespace armored::store::test
