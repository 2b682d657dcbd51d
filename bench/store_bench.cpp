// Durable readings per second into the store, per backend and batch size.
// Each configuration stores the same fleet-shaped stream (5,000 devices,
// round-robin, realistic 52-byte readings) into a fresh database; a batch
// counts once store_batch has returned (committed and synced).
//
// Reference, same run: a raw sqlite3 loop (one prepared INSERT, one
// transaction per batch, WAL + synchronous=FULL) into the same two table
// layouts, and into a bare rowid table with no key (what SQLite can do at best).
//
// Usage: store_bench [readings per run] [runs] (defaults 300000, 3; the median is reported)
// PostgreSQL: ARMORED_PG_DSN (default "dbname=armored_test"); skipped if unreachable.

#include <libpq-fe.h>
#include <malloc.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/rng.h"
#include "store/store.h"
#include "store/stored_index.h"
#include "telemetry/generator.h"

namespace {
using namespace armored;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

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
    // Every device reports every 30 s, each at its own phase within the period.
    auto r = gens[d].next(static_cast<std::uint32_t>(1'700'000'000 + (i / devices) * 30 + d % 30));
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
// Small batches are sync-bound; a fifth of the stream measures them as well.
std::size_t stream_length(std::size_t rows, std::size_t batch) { return batch < 1000 ? rows / 5 : rows; }

Figure run(const std::vector<store::ReadingRow>& rows, std::size_t batch,
           const std::function<std::size_t(std::size_t, std::size_t)>& store_one) {
  const std::size_t total = stream_length(rows.size(), batch);
  auto t0 = SteadyClock::now();
  std::size_t stored = 0;
  for (std::size_t i = 0; i < total; i += batch) stored += store_one(i, std::min(batch, total - i));
  double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return {static_cast<double>(total) / s, stored};
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

}  // namespace

struct Config {
  const char* name;
  int reference;  // index of the raw loop to compare with, or -1
  std::function<Figure(std::size_t batch)> run;
};

// Memory the writer's stored-ranges cache costs per enrolled device
// (docs/storage.md): `devices` devices with `epochs` live epochs each, one
// run per epoch (no losses), measured as heap in use before and after.
void stored_index_memory(std::size_t devices, std::uint32_t epochs) {
  const std::size_t before = mallinfo2().uordblks;
  {
    store::StoredIndex index;
    index.set_complete(true);
    auto none = [](std::string_view, std::uint32_t) -> store::StoreResult<store::SeqRuns> { return store::SeqRuns{}; };
    std::vector<store::ReadingRow> batch;
    for (std::size_t d = 0; d < devices; ++d) {
      for (std::uint32_t e = 1; e <= epochs; ++e) {
        store::ReadingRow r;
        char id[32];
        std::snprintf(id, sizeof id, "patient-%06zu", d);
        r.device = id;
        r.epoch = e;
        for (std::uint64_t s = 0; s < 3; ++s) {
          r.seq = s;
          batch.push_back(r);
        }
      }
      if (batch.size() >= 30000 || d + 1 == devices) {
        auto p = index.plan(batch, none);
        if (!p) std::exit(1);
        index.committed(std::move(*p));
        batch.clear();
      }
    }
    batch.shrink_to_fit();
    const std::size_t after = mallinfo2().uordblks;
    std::printf("stored-ranges cache: %zu devices x %u epochs, one run each: %.1f MiB, %.0f bytes per device\n",
                devices, epochs, static_cast<double>(after - before) / (1 << 20),
                static_cast<double>(after - before) / static_cast<double>(devices));
  }
}

int main(int argc, char** argv) {
  stored_index_memory(100000, 2);
  if (argc > 1 && std::string(argv[1]) == "--memory-only") return 0;
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 300000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const auto rows = fleet_stream(n, 5000);
  std::vector<store::ReadingRow> halves[2];
  for (std::size_t i = 0; i < rows.size(); ++i) halves[i % 2].push_back(rows[i]);
  fs::path dir = fs::temp_directory_path() / ("armored-store-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const char* env = std::getenv("ARMORED_PG_DSN");
  const std::string dsn = env && *env ? env : "dbname=armored_test";
  const std::string schema = "armored_bench_" + std::to_string(::getpid());
  int k = 0;
  auto fresh = [&] {
    for (auto& e : fs::directory_iterator(dir)) fs::remove(e.path());
    return dir / ("db-" + std::to_string(k++) + ".sqlite");
  };
  std::size_t expect = n;
  auto check = [&](const Figure& f) {
    if (f.stored != expect) {
      std::fprintf(stderr, "stored %zu of %zu\n", f.stored, expect);
      std::exit(1);
    }
    return f;
  };
  auto sqlite_store = [&](store::SqliteOptions o) {
    return [&, o](std::size_t batch) {
      auto st = store::open_sqlite(fresh(), o);
      if (!st) std::exit(1);
      return check(bench_store(**st, rows, batch));
    };
  };
  store::SqliteOptions device_ordered, normal_sync;
  device_ordered.layout = store::ReadingsLayout::kDeviceOrdered;
  normal_sync.synchronous_full = false;
  const bool have_pg = store::open_postgres({dsn, schema}).has_value();
  drop_schema(dsn, schema);

  std::vector<Config> configs = {
      {"raw sqlite3 loop, (ts,device,epoch,seq) key", -1,
       [&](std::size_t b) { return bench_raw_sqlite(fresh(), rows, b, RawTable::kTimeKeyed); }},
      {"store sqlite, time-ordered (default)", 0, sqlite_store({})},
      {"store sqlite, time-ordered, sync NORMAL (unsafe)", 0, sqlite_store(normal_sync)},
      {"raw sqlite3 loop, (device,epoch,seq) key", -1,
       [&](std::size_t b) { return bench_raw_sqlite(fresh(), rows, b, RawTable::kDeviceKeyed); }},
      {"store sqlite, device-ordered", 3, sqlite_store(device_ordered)},
      {"raw sqlite3 loop, bare rowid table, no key", -1,
       [&](std::size_t b) { return bench_raw_sqlite(fresh(), rows, b, RawTable::kBare); }},
  };
  if (have_pg) {
    configs.push_back({"store postgresql, 1 connection", -1, [&](std::size_t b) {
                         auto st = store::open_postgres({dsn, schema});
                         if (!st) std::exit(1);
                         Figure f = check(bench_store(**st, rows, b));
                         drop_schema(dsn, schema);
                         return f;
                       }});
    // The cloud may run one store per writer thread: two connections, devices split by parity.
    configs.push_back({"store postgresql, 2 connections", -1, [&](std::size_t b) {
                         auto s0 = store::open_postgres({dsn, schema});
                         auto s1 = store::open_postgres({dsn, schema});
                         if (!s0 || !s1) std::exit(1);
                         auto t0 = SteadyClock::now();
                         std::size_t stored1 = 0;
                         std::thread other([&] { stored1 = bench_store(**s1, halves[1], b).stored; });
                         std::size_t stored0 = bench_store(**s0, halves[0], b).stored;
                         other.join();
                         double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
                         drop_schema(dsn, schema);
                         return check(Figure{static_cast<double>(stored0 + stored1) / secs, stored0 + stored1});
                       }});
  } else {
    std::printf("store postgresql: skipped (cannot connect with \"%s\")\n", dsn.c_str());
  }

  std::printf("store_bench: %zu readings per run (batch 100: %zu), 5000 devices, durable on return;"
              " median of %d runs [min..max]\n", n, n / 5, reps);
  std::fflush(stdout);
  for (std::size_t batch : {std::size_t{100}, std::size_t{1000}, std::size_t{5000}}) {
    // Runs are interleaved across configurations so machine noise hits all alike.
    expect = stream_length(n, batch);
    std::vector<std::vector<double>> results(configs.size());
    for (int r = 0; r < reps; ++r) {
      for (std::size_t c = 0; c < configs.size(); ++c) results[c].push_back(configs[c].run(batch).per_second);
    }
    std::vector<double> medians(configs.size());
    for (std::size_t c = 0; c < configs.size(); ++c) {
      auto& v = results[c];
      std::sort(v.begin(), v.end());
      double median = medians[c] = v[v.size() / 2];
      std::printf("%-48s batch %5zu  %9.0f readings/s [%.0f..%.0f]", configs[c].name, batch, median, v.front(),
                  v.back());
      if (configs[c].reference >= 0) std::printf("  %.2fx its raw loop", median / medians[configs[c].reference]);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  fs::remove_all(dir);
  return 0;
}
