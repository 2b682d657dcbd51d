// `armored report gaps`: the account of every reading. The cloud's storage
// keeps, per device and epoch, the runs of sequence numbers it has stored
// (docs/storage.md); a hole between two runs is a reading that a later one
// overtook and that never arrived. A loss can therefore never be silent.

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "cloud/config.h"
#include "store/store.h"

namespace {

using namespace armored;
namespace fs = std::filesystem;

std::string utc(std::int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::unique_ptr<store::Store> open_for_report(const std::string& config_path, const std::string& db_path) {
  if (!db_path.empty()) {
    std::error_code ec;
    // open_sqlite creates a missing file: a typo must not report an empty store.
    if (!fs::is_regular_file(db_path, ec)) throw cli::UsageError("no such database file: " + db_path);
    auto s = store::open_sqlite(db_path);
    if (!s) throw cli::OperationFailed(s.error());
    return std::move(*s);
  }
  auto config = cloud::load_cloud_config(config_path);
  if (!config) throw cli::Failure(config.error());
  if (config->backend == "sqlite") {
    std::error_code ec;
    if (!fs::is_regular_file(config->sqlite_path, ec)) {
      throw cli::UsageError("no such database file: " + config->sqlite_path.string() + " (from " + config_path + ")");
    }
    auto s = store::open_sqlite(config->sqlite_path);
    if (!s) throw cli::OperationFailed(s.error());
    return std::move(*s);
  }
  store::PostgresOptions po;
  po.conninfo = config->postgresql_conninfo;
  po.schema = config->postgresql_schema;
  auto s = store::open_postgres(po);
  if (!s) throw cli::OperationFailed(s.error());
  return std::move(*s);
}

}  // namespace

namespace armored::cli {

void add_report(CLI::App& app, Context& ctx) {
  auto* report = app.add_subcommand("report", "Reports from the cloud's storage (gaps: readings never received)");
  report->require_subcommand(1);
  struct Opts {
    std::string config, db;
    std::size_t limit = 100;
  };
  auto o = std::make_shared<Opts>();
  auto* gaps = report->add_subcommand("gaps", "List sequence numbers never stored, by device and epoch");
  gaps->footer(
      "Every device numbers its readings 0, 1, 2, ... within an epoch, and the cloud keeps the runs\n"
      "of numbers it has stored. A hole between two runs is a reading overtaken by a later one that\n"
      "never arrived: lost before a gateway accepted it (a device queue overflow), or still on its\n"
      "way (a gateway's spool is draining). Readings after a device's last stored one cannot be\n"
      "seen here; compare the device's own count.\n"
      "Exit code 0: no gaps; 1: gaps found; 2: bad usage.\n\n"
      "Example:\n"
      "  armored report gaps --config cloud.toml --limit 20\n"
      "  armored report gaps --db armored.db --json");
  gaps->add_option("--config", o->config, "The cloud's configuration (its [storage] is read)");
  gaps->add_option("--db", o->db, "A SQLite database file instead of --config");
  gaps->add_option("--limit", o->limit, "List at most this many gaps (totals count all)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  gaps->callback([o, &ctx] {
    if (o->config.empty() == o->db.empty()) throw cli::UsageError("give exactly one of --config or --db");
    auto store = open_for_report(o->config, o->db);
    store::Store::GapTotals totals;
    auto list = store->sequence_gaps(o->limit, &totals);
    if (!list) throw cli::OperationFailed(list.error());
    auto stored = store->count_readings();
    if (!stored) throw cli::OperationFailed(stored.error());
    if (ctx.json) {
      nlohmann::json j;
      j["readings_stored"] = *stored;
      j["gaps"] = totals.gaps;
      j["missing"] = totals.missing;
      j["series_with_gaps"] = totals.series;
      j["listed"] = list->size();
      auto& arr = j["list"] = nlohmann::json::array();
      for (const auto& g : *list) {
        arr.push_back({{"device", g.device},
                       {"epoch", g.epoch},
                       {"first_missing", g.first_missing},
                       {"last_missing", g.last_missing},
                       {"missing", g.count()},
                       {"after_ms", g.after_ms},
                       {"before_ms", g.before_ms}});
      }
      std::cout << j.dump() << "\n";
    } else if (totals.gaps == 0) {
      std::cout << "No gaps: every sequence number below each device's newest stored reading is stored ("
                << *stored << " readings).\n";
    } else {
      std::cout << totals.missing << " readings missing in " << totals.gaps << " gaps across " << totals.series
                << " device epochs (" << *stored << " readings stored):\n";
      for (const auto& g : *list) {
        std::cout << "  " << g.device << " epoch " << g.epoch << ": seq " << g.first_missing;
        if (g.last_missing != g.first_missing) std::cout << ".." << g.last_missing;
        std::cout << " (" << g.count() << ") missing since " << utc(g.before_ms) << ", after a reading received "
                  << utc(g.after_ms) << "\n";
      }
      if (list->size() < totals.gaps) {
        std::cout << "  ... " << (totals.gaps - list->size()) << " more (raise --limit)\n";
      }
    }
    ctx.exit_code = totals.gaps == 0 ? 0 : 1;
  });
}

}  // namespace armored::cli
