// Durable readings per second into the store, per backend and batch size.
// Each configuration stores the same fleet-shaped stream (5,000 devices,
// round-robin, realistic 52-byte readings) into a fresh database; a batch
// counts once store_batch has returned (committed and synced).
//
// Reference, same run: a raw sqlite3 loop (one prepared INSERT, one
// transaction per batch, WAL + synchronous=FULL) into the same two table
// layouts, and into a bare rowid table with no key (what SQLite can do at best).
//
// Usage: store_bench [readings per configuration] (default 300000)
// PostgreSQL: ARMORED_PG_DSN (default "dbname=armored_test"); skipped if unreachable.

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/rng.h"
#include "store/store.h"
#include "telemetry/generator.h"

namespace {
using namespace armored;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<store::ReadingRow> fleet_stream(std::size_t n, std::size_t devices) {
  SeededRng rng(2024);
  std::vector<telemetry::ReadingGenerator> gens;
  gens.reserve(devices);
  for (std::size_t d = 0; d < devices; ++d) gens.emplace_back(rng);
  std::vector<store::ReadingRow> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t d = i % devices;
    // Devices joined at different times: their sequence numbers are spread out.
    std::uint64_t seq = i / devices + 1 + (d * 7919) % 3000;
    auto r = gens[d].next(static_cast<std::uint32_t>(1'700'000'000 + seq * 30));
    auto& row = rows[i];
    char name[32];
    std::snprintf(name, sizeof name, "patient-%05zu", d);
    row.device = name;
    row.key_id = Bytes{0x6b, static_cast<std::uint8_t>(d >> 8), static_cast<std::uint8_t>(d), 0x01};
    row.epoch = 1;
    row.seq = seq;
    row.timestamp = r.timestamp;
    row.heart_rate_dbpm = r.heart_rate_dbpm;
    row.spo2_pct = r.spo2_pct;
    row.payload = telemetry::encode(r);
    row.received_at_ms = static_cast<std::int64_t>(r.timestamp) * 1000 + 250;
  }
  return rows;
}

struct Figure {
  double per_second = 0;
  std::size_t stored = 0;
};

// Feeds `rows` in batches of `batch` to `store_one(begin, count)`.
Figure run(const std::vector<store::ReadingRow>& rows, std::size_t batch,
           const std::function<std::size_t(std::size_t, std::size_t)>& store_one) {
  auto t0 = Clock::now();
  std::size_t stored = 0;
  for (std::size_t i = 0; i < rows.size(); i += batch) stored += store_one(i, std::min(batch, rows.size() - i));
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return {static_cast<double>(rows.size()) / s, stored};
}

Figure bench_store(store::Store& st, const std::vector<store::ReadingRow>& rows, std::size_t batch) {
  return run(rows, batch, [&](std::size_t at, std::size_t n) {
    auto r = st.store_batch(std::span(rows).subspan(at, n));
    if (!r) {
      std::fprintf(stderr, "store_batch: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    return r->inserted;
  });
}

void must(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

// The raw reference: no store, no abstraction, the same durable settings.
enum class RawTable { kTimeKeyed, kDeviceKeyed, kBare };

Figure bench_raw_sqlite(const fs::path& file, const std::vector<store::ReadingRow>& rows, std::size_t batch,
                        RawTable table) {
  sqlite3* db = nullptr;
  must(sqlite3_open(file.c_str(), &db), db, "open");
  must(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
                        "PRAGMA wal_autocheckpoint=10000;", nullptr, nullptr, nullptr), db, "pragma");
  const std::string columns =
      "device TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL, key_id BLOB NOT NULL,"
      " ts INTEGER NOT NULL, heart_rate INTEGER NOT NULL, spo2 INTEGER NOT NULL, payload BLOB NOT NULL,"
      " received_at INTEGER NOT NULL";
  const bool keyed = table != RawTable::kBare;
  std::string schema = "CREATE TABLE r(" + columns +
                       (table == RawTable::kTimeKeyed ? ", PRIMARY KEY(ts, device, epoch, seq)) WITHOUT ROWID"
                        : table == RawTable::kDeviceKeyed ? ", PRIMARY KEY(device, epoch, seq)) WITHOUT ROWID"
                                                          : ")");
  must(sqlite3_exec(db, schema.c_str(), nullptr, nullptr, nullptr), db, "schema");
  sqlite3_stmt* ins = nullptr;
  must(sqlite3_prepare_v2(db, keyed ? "INSERT OR IGNORE INTO r VALUES(?,?,?,?,?,?,?,?,?)"
                                    : "INSERT INTO r VALUES(?,?,?,?,?,?,?,?,?)", -1, &ins, nullptr), db, "prepare");
  Figure f = run(rows, batch, [&](std::size_t at, std::size_t n) {
    must(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
    for (std::size_t i = at; i < at + n; ++i) {
      const auto& r = rows[i];
      sqlite3_bind_text(ins, 1, r.device.data(), static_cast<int>(r.device.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 2, r.epoch);
      sqlite3_bind_int64(ins, 3, static_cast<sqlite3_int64>(r.seq));
      sqlite3_bind_blob(ins, 4, r.key_id.data(), static_cast<int>(r.key_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 5, r.timestamp);
      sqlite3_bind_int64(ins, 6, r.heart_rate_dbpm);
      sqlite3_bind_int64(ins, 7, r.spo2_pct);
      sqlite3_bind_blob(ins, 8, r.payload.data(), static_cast<int>(r.payload.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 9, r.received_at_ms);
      must(sqlite3_step(ins), db, "insert");
      sqlite3_reset(ins);
    }
    must(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    return n;
  });
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return f;
}

void drop_schema(const std::string& dsn, const std::string& schema) {
  PGconn* c = PQconnectdb(dsn.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema + " CASCADE").c_str()));
  }
  PQfinish(c);
}

void print(const char* what, std::size_t batch, const Figure& f, double reference) {
  std::printf("%-48s batch %5zu  %10.0f readings/s", what, batch, f.per_second);
  if (reference > 0) std::printf("  (%.2fx raw)", f.per_second / reference);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 300000;
  const auto rows = fleet_stream(n, 5000);
  fs::path dir = fs::temp_directory_path() / ("armored-store-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const char* env = std::getenv("ARMORED_PG_DSN");
  std::string dsn = env && *env ? env : "dbname=armored_test";
  std::printf("store_bench: %zu readings per configuration, 5000 devices, durable on return\n", n);
  int k = 0;
  auto fresh = [&] { return dir / ("db-" + std::to_string(k++) + ".sqlite"); };

  for (std::size_t batch : {std::size_t{100}, std::size_t{1000}, std::size_t{5000}}) {
    Figure raw = bench_raw_sqlite(fresh(), rows, batch, RawTable::kTimeKeyed);
    print("raw sqlite3 loop, (ts,device,epoch,seq) key", batch, raw, 0);
    Figure raw_device = bench_raw_sqlite(fresh(), rows, batch, RawTable::kDeviceKeyed);
    print("raw sqlite3 loop, (device,epoch,seq) key", batch, raw_device, 0);
    print("raw sqlite3 loop, bare rowid table, no key", batch, bench_raw_sqlite(fresh(), rows, batch, RawTable::kBare), 0);
    {
      auto st = store::open_sqlite(fresh());
      if (!st) return std::fprintf(stderr, "%s\n", st.error().message.c_str()), 1;
      Figure f = bench_store(**st, rows, batch);
      if (f.stored != n) return std::fprintf(stderr, "stored %zu of %zu\n", f.stored, n), 1;
      print("store sqlite, time-ordered (default)", batch, f, raw.per_second);
    }
    {
      store::SqliteOptions o;
      o.layout = store::ReadingsLayout::kDeviceOrdered;
      auto st = store::open_sqlite(fresh(), o);
      if (!st) return 1;
      print("store sqlite, device-ordered", batch, bench_store(**st, rows, batch), raw_device.per_second);
    }
    {
      store::SqliteOptions o;
      o.synchronous_full = false;
      auto st = store::open_sqlite(fresh(), o);
      if (!st) return 1;
      print("store sqlite, time-ordered, sync NORMAL (unsafe)", batch, bench_store(**st, rows, batch), raw.per_second);
    }
    {
      std::string schema = "armored_bench_" + std::to_string(::getpid()) + "_" + std::to_string(batch);
      auto st = store::open_postgres({dsn, schema});
      if (!st) {
        std::printf("store postgresql: skipped (%s)\n", st.error().message.c_str());
      } else {
        Figure f = bench_store(**st, rows, batch);
        if (f.stored != n) return std::fprintf(stderr, "stored %zu of %zu\n", f.stored, n), 1;
        print("store postgresql (COPY + ON CONFLICT)", batch, f, 0);
      }
      drop_schema(dsn, schema);
    }
    for (auto& e : fs::directory_iterator(dir)) fs::remove(e.path());
  }
  fs::remove_all(dir);
  return 0;
}
