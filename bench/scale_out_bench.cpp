// scale_out_bench: what the scaled cloud (docs/scale-out.md) costs per
// reading, next to the single process, as real processes on 127.0.0.1.
//
// One backlog is spooled once: `armored fleet` sends to `armored gateway`
// while no cloud listens, so the gateway keeps every reading in its spool.
// Each configuration then gets a copy of that spool, its own cloud side and
// a fresh gateway, and the time to store the whole backlog is measured (a
// drain: the fleet is stopped, so nothing competes with the cloud side but
// the gateway forwarding). The configurations, one after the other in the
// same run:
//   single, SQLite      `armored cloud` as shipped (WAL, group commit)
//   single, PostgreSQL  the same process storing into PostgreSQL
//   scaled, K nodes, W workers
//                       1 front (TLS + MQTT, publishes each PUBLISH into
//                       JetStream, PUBACK once stored), a NATS JetStream of
//                       K nodes (replicas = K: 1, or 3 as production runs),
//                       W ingest workers (E3 open, PostgreSQL commit, ack)
// For each: readings/s stored, counted from the database, and the CPU each
// role used (utime + stime from /proc/<pid>/stat, before and after) divided
// by the readings stored: the cloud or the front, each worker, every
// nats-server, PostgreSQL (the backends of this configuration's connections,
// found by application_name, plus the server's background processes), and
// the gateway. From those costs it projects the cores (and nodes) each role
// needs for 1 and 10 million devices at one reading per 30 s.
//
// The machine is shared and small: the throughputs are ratios between
// configurations measured minutes apart; the CPU per reading is the figure
// to carry over to other machines.
//
//   build/release/bench/scale_out_bench [--seconds S] [--devices N] [--rate R]
//       [--nodes 1,3] [--workers 1,2,3] [--batch N] [--node-cores C] [--keep]

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pipeline_bench_support.h"
#include "provision/registry.h"
#include "support/nats_cluster.h"
#include "support/process.h"

using namespace armored;
using namespace armored::bench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::Subprocess;

namespace {

struct Args {
  double seconds = 20;         // the fleet spools the backlog for this long
  std::size_t devices = 2000;  // wearables in the fleet (and in the PKI)
  double rate = 25000;         // readings/s the fleet offers while spooling
  std::vector<int> nodes{1, 3};
  std::vector<int> workers{1, 2, 3};
  int batch = 255;             // the gateway's [forward] batch_max_messages (its default)
  double drain_limit = 240;    // longest any drain may take, seconds
  double node_cores = 8;       // cores per node, for the projection
  double utilisation = 0.7;    // planned busy share of those cores
  bool single = true;          // also the single process (SQLite, PostgreSQL)
  bool keep = false;  // keep the work dir and the PostgreSQL schemas
  std::string work;
};

// ---------------------------------------------------------------------------
// Small helpers

bool step(const fs::path& dir, std::vector<std::string> argv, std::chrono::seconds timeout = 900s) {
  return armored_step("scale_out_bench", testing::armored_binary().string(), dir, std::move(argv), timeout);
}

// The integer after `"key":` in a JSON text (-1 if absent).
std::int64_t json_int(const std::string& text, const std::string& key) {
  auto p = text.find("\"" + key + "\":");
  return p == std::string::npos ? -1 : std::atoll(text.c_str() + p + key.size() + 3);
}

std::string pg_dsn() {
  const char* dsn = std::getenv("ARMORED_PG_DSN");
  return dsn && *dsn ? dsn : "dbname=armored_test";
}

// CPU seconds of a set of processes (those gone count 0).
double cpu_of(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (pid_t p : pids) sum += std::max(0.0, proc_cpu_seconds(p));
  return sum;
}

// Busy and total CPU seconds of the whole machine so far (/proc/stat): how
// much of it the configuration measured had, on a shared machine.
struct MachineCpu {
  double busy = 0, total = 0;
  static MachineCpu now() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    double v[8] = {};
    f >> cpu;
    for (double& x : v) f >> x;
    const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
    MachineCpu m;
    m.total = (v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]) / tck;
    m.busy = m.total - (v[3] + v[4]) / tck;  // all but idle and iowait
    return m;
  }
};

// ---------------------------------------------------------------------------
// PostgreSQL: counting the stored readings and finding the server processes
// that work for one configuration.

class Pg {
 public:
  Pg() : conn_(PQconnectdb((pg_dsn() + " application_name=scale_out_bench_counter").c_str())) {
    if (ok()) exec("SET client_min_messages = warning");  // no NOTICE for each table a DROP SCHEMA cascades to
  }
  ~Pg() { PQfinish(conn_); }
  Pg(const Pg&) = delete;
  Pg& operator=(const Pg&) = delete;
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }
  pid_t backend_pid() const { return PQbackendPID(conn_); }

  // The first column of every row ("" on error).
  std::vector<std::string> column(const std::string& sql) {
    std::vector<std::string> out;
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return out;
  }
  std::int64_t integer(const std::string& sql) {
    auto v = column(sql);
    return v.empty() || v[0].empty() ? -1 : std::stoll(v[0]);
  }
  void exec(const std::string& sql) { PQclear(PQexec(conn_, sql.c_str())); }

 private:
  PGconn* conn_;
};

// The backends whose application_name starts with `prefix`, and PostgreSQL's
// own background processes (checkpointer, WAL writer, ...: shared with
// anything else the server does meanwhile).
std::vector<pid_t> pg_pids(Pg& pg, const std::string& prefix, bool background) {
  std::string sql = "SELECT pid FROM pg_stat_activity WHERE application_name LIKE '" + prefix + "%'";
  if (background) {
    sql = "SELECT pid FROM pg_stat_activity WHERE backend_type IN ('checkpointer', 'background writer', 'walwriter',"
          " 'autovacuum launcher')";
  }
  std::vector<pid_t> out;
  for (const auto& s : pg.column(sql)) out.push_back(static_cast<pid_t>(std::stol(s)));
  return out;
}

// ---------------------------------------------------------------------------
// One configuration

struct Setup {
  enum class Kind { kSqlite, kPostgres, kScaled } kind;
  int nodes = 0, workers = 0;
  std::string label() const {
    switch (kind) {
      case Kind::kSqlite: return "single, SQLite";
      case Kind::kPostgres: return "single, PostgreSQL";
      case Kind::kScaled: break;
    }
    return "scaled, " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "") + ", " + std::to_string(workers) +
           " worker" + (workers > 1 ? "s" : "");
  }
  std::string tag() const {
    switch (kind) {
      case Kind::kSqlite: return "sqlite";
      case Kind::kPostgres: return "pg";
      case Kind::kScaled: break;
    }
    return "n" + std::to_string(nodes) + "w" + std::to_string(workers);
  }
};

// A role's processes and the CPU they used during the drain.
struct Role {
  std::string name;
  std::vector<pid_t> pids;
  double cpu0 = 0, cpu = 0;  // at the start; used during the drain
};

struct Figures {
  Setup setup;
  std::int64_t stored = 0, expected = 0;
  double seconds = 0, rate = 0;
  std::vector<Role> roles;  // in print order
  std::int64_t js_messages = 0, redelivered = 0, epoch_waits = 0;
  bool ok = false;
  // Readings per JetStream message (one uplink PUBLISH): deliveries taken
  // again count once.
  double readings_per_message() const {
    const auto distinct = js_messages - redelivered;
    return distinct > 0 ? static_cast<double>(stored) / static_cast<double>(distinct) : 0;
  }
  double machine_busy = 0;  // CPU seconds the whole machine used during the drain
  double cpu_window = 0;    // seconds between the two CPU samples (the drain, or up to 15 s more if it stalled)
  double cpu_of(const std::string& prefix) const {
    double s = 0;
    for (const auto& r : roles) {
      if (r.name.rfind(prefix, 0) == 0) s += r.cpu;
    }
    return s;
  }
  // CPU microseconds per stored reading of the roles whose name starts with `prefix`.
  double us(const std::string& prefix) const { return stored > 0 ? cpu_of(prefix) * 1e6 / static_cast<double>(stored) : 0; }
};

struct Run {
  const Args& a;
  fs::path root;     // PKI, E3 registry, the backlog
  std::int64_t backlog = 0;
  Setup setup;
  fs::path dir;
  std::string app;   // application_name prefix of this configuration's PostgreSQL connections
  std::string schema;
  std::unique_ptr<testing::TempDir> nats_dir;
  std::unique_ptr<testing::NatsCluster> nats;
  std::string stream = "ARMORED_BENCH";
  std::unique_ptr<Subprocess> cloud, gateway;  // cloud: the single process or the front
  std::vector<std::unique_ptr<Subprocess>> workers;
  Pg pg;

  Run(const Args& args, fs::path r, std::int64_t b, Setup s) : a(args), root(std::move(r)), backlog(b), setup(s) {
    dir = root / ("run-" + setup.tag());
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::create_symlink(root / "pki", dir / "pki");
    fs::create_symlink(root / "e3", dir / "e3");
    fs::copy(root / "backlog" / "spool", dir / "spool", fs::copy_options::recursive);
    app = "armored_bench_" + std::to_string(::getpid()) + "_" + setup.tag();
    schema = app;
  }
  ~Run() {
    if (gateway) gateway->stop(10s);
    for (auto& w : workers) w->stop(10s);
    if (cloud) cloud->stop(10s);
    nats.reset();
    if (setup.kind != Setup::Kind::kSqlite && pg.ok() && !a.keep) pg.exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
  }

  bool postgres() const { return setup.kind != Setup::Kind::kSqlite; }

  std::string storage_toml(const std::string& who) const {
    if (!postgres()) return "[storage]\nsqlite_path = \"cloud.db\"\n";
    return "[storage]\nbackend = \"postgresql\"\npostgresql_conninfo = \"" + pg_dsn() + " application_name=" + app +
           "_" + who + "\"\npostgresql_schema = \"" + schema + "\"\n";
  }

  std::string cluster_toml(const std::string& role) const {
    std::string servers;
    for (const auto& u : nats->urls()) servers += (servers.empty() ? "\"" : ", \"") + u + "\"";
    return "[cluster]\nrole = \"" + role + "\"\nnats = [" + servers + "]\nstream = \"" + stream +
           "\"\nreplicas = " + std::to_string(nats->size() >= 3 ? 3 : 1) + "\n";
  }

  // The cloud's config: the single process (role "") or a role of the scaled cloud.
  std::string cloud_toml(const std::string& role, const std::string& who) const {
    return "[listen]\naddress = \"127.0.0.1\"\nport = 0\n"
           "[tls]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/cloud/cloud.crt\"\n"
           "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/cloud/cloud.key\"\ncrl = \"pki/crl.pem\"\n"
           "[e3]\ndir = \"e3\"\npki_dir = \"pki\"\nstate_file = \"" + who + ".e3state\"\n"
           // Tens of readings per second per device: as in pipeline_bench.
           "replay_window = 1024\n" +
           storage_toml(who) + "[admin]\nenabled = false\n[status]\ninterval_s = 1\n" +
           (role.empty() ? "" : cluster_toml(role));
  }

  std::unique_ptr<Subprocess> start_armored(const std::string& who, const std::string& toml, const std::string& ready) {
    write_text(dir / (who + ".toml"), toml);
    Subprocess::Options o;
    o.cwd = dir;
    o.stdout_path = dir / (who + ".out");
    o.stderr_path = dir / (who + ".err");
    auto p = std::make_unique<Subprocess>(
        std::vector<std::string>{testing::armored_binary().string(), "cloud", "--config", who + ".toml"}, o);
    if (!wait_for(o.stdout_path, ready, 120s)) {
      std::printf("  %s did not start: %s\n", who.c_str(), testing::slurp(o.stderr_path).c_str());
      return nullptr;
    }
    return p;
  }

  // Everything but the gateway; false if something did not start.
  bool start_cloud_side() {
    if (setup.kind != Setup::Kind::kScaled) {
      cloud = start_armored("cloud", cloud_toml("", "cloud"), "listening on");
      return cloud != nullptr;
    }
    nats_dir = std::make_unique<testing::TempDir>();
    nats = std::make_unique<testing::NatsCluster>(*nats_dir, setup.nodes);
    if (!nats->error().empty()) {
      std::printf("  NATS: %s\n", nats->error().c_str());
      return false;
    }
    // Workers first, one at a time: the first creates the schema, the
    // stream and the consumer.
    for (int w = 1; w <= setup.workers; ++w) {
      const std::string who = "worker" + std::to_string(w);
      auto p = start_armored(who, cloud_toml("worker", who), "worker consuming");
      if (!p) return false;
      workers.push_back(std::move(p));
    }
    cloud = start_armored("front", cloud_toml("front", "front"), "listening on");
    return cloud != nullptr;
  }

  void start_gateway() {
    const int port = port_after(testing::slurp(dir / (setup.kind == Setup::Kind::kScaled ? "front.out" : "cloud.out")),
                                "listening on");
    write_text(dir / "gateway.toml",
               "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = " +
                   std::to_string(port) +
                   "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.crt\"\n"
                   "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/gateway/gw1.key\"\nticket_dir = \"tickets\"\n"
                   "[spool]\ndir = \"spool\"\n[forward]\nbatch_max_messages = " + std::to_string(a.batch) +
                   "\n[backoff]\ninitial_ms = 100\nmax_ms = 500\n[status]\ninterval_s = 1\n");
    Subprocess::Options o;
    o.cwd = dir;
    o.stdout_path = dir / "gateway.out";
    o.stderr_path = dir / "gateway.err";
    gateway = std::make_unique<Subprocess>(
        std::vector<std::string>{testing::armored_binary().string(), "gateway", "--config", "gateway.toml"}, o);
  }

  Count count() {
    if (!postgres()) {
      Count c = count_readings(dir / "cloud.db");
      c.rows = std::max<std::int64_t>(c.rows, 0);
      return c;
    }
    // The stored runs are written in the transaction of their readings, and
    // summing one row per (device, epoch) costs the server next to nothing,
    // unlike count(*) over a growing table.
    Count c;
    c.at = Steady::now();
    c.rows = std::max<std::int64_t>(
        0, pg.integer("SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM \"" + schema + "\".stored_ranges"));
    return c;
  }

  std::vector<Role> roles() {
    std::vector<Role> out;
    if (setup.kind == Setup::Kind::kScaled) {
      out.push_back({"front", {cloud->pid()}});
      for (std::size_t w = 0; w < workers.size(); ++w) out.push_back({"worker " + std::to_string(w + 1), {workers[w]->pid()}});
      std::vector<pid_t> n;
      for (int i = 0; i < nats->size(); ++i) n.push_back(nats->pid(i));
      out.push_back({"nats-server", n});
    } else {
      out.push_back({"cloud", {cloud->pid()}});
    }
    if (postgres()) {
      out.push_back({"postgres backends", pg_pids(pg, app, false)});
      out.push_back({"postgres background", pg_pids(pg, "", true)});
    }
    out.push_back({"gateway", {}});  // started after the first sample: counted from 0
    out.push_back({"bench (counting)", {::getpid()}});
    return out;
  }

  Figures drain() {
    Figures f;
    f.setup = setup;
    f.expected = backlog;
    std::printf("\n== %s ==\n", setup.label().c_str());
    std::fflush(stdout);
    if (postgres() && !pg.ok()) {
      std::printf("  PostgreSQL unreachable with \"%s\" (set ARMORED_PG_DSN or run scripts/start-services.sh): %s\n",
                  pg_dsn().c_str(), pg.error().c_str());
      return f;
    }
    if (!start_cloud_side()) return f;
    f.roles = roles();
    for (auto& r : f.roles) r.cpu0 = cpu_of(r.pids);
    const MachineCpu m0 = MachineCpu::now();
    const auto t0 = Steady::now();
    start_gateway();
    for (auto& r : f.roles) {
      if (r.name == "gateway") r.pids = {gateway->pid()};
    }
    // Until the backlog is stored, or nothing moved for 15 s, or the limit.
    Count last = count();
    auto moved_at = Steady::now();
    const auto until = t0 + std::chrono::duration<double>(a.drain_limit);
    while (last.rows < backlog && Steady::now() < until && Steady::now() - moved_at < 15s) {
      std::this_thread::sleep_for(100ms);
      const Count c = count();
      if (c.rows != last.rows) {
        last = c;
        moved_at = Steady::now();
      }
      if (!gateway->running()) break;
    }
    for (auto& r : f.roles) r.cpu = cpu_of(r.pids) - r.cpu0;
    f.machine_busy = MachineCpu::now().busy - m0.busy;
    f.cpu_window = std::chrono::duration<double>(Steady::now() - t0).count();
    const auto t1 = last.at;
    f.stored = last.rows;
    f.seconds = std::chrono::duration<double>(t1 - t0).count();
    f.rate = f.seconds > 0 ? static_cast<double>(f.stored) / f.seconds : 0;
    f.ok = f.stored >= backlog;
    // Stop (workers report their message counts when they stop).
    gateway->stop(10s);
    for (auto& w : workers) w->stop(15s);
    if (cloud) cloud->stop(15s);
    for (std::size_t w = 0; w < workers.size(); ++w) {
      static const std::regex stopped_re(R"(worker stopped: (\d+) messages \((\d+) redelivered\).* (\d+) waited)");
      const std::string out = testing::slurp(dir / ("worker" + std::to_string(w + 1) + ".out"));
      std::smatch m;
      if (std::regex_search(out, m, stopped_re)) {
        f.js_messages += std::stoll(m[1]);
        f.redelivered += std::stoll(m[2]);
        f.epoch_waits += std::stoll(m[3]);
      }
    }
    // The exact count, now that nothing writes.
    const std::int64_t exact = postgres() ? pg.integer("SELECT count(*) FROM \"" + schema + "\".readings")
                                          : count_readings(dir / "cloud.db").rows;
    print(f, exact);
    if (postgres()) {
      // Why readings were refused, if any were (a complete drain refuses none).
      const auto reasons = pg.column("SELECT reason || ' ' || count(*) FROM \"" + schema +
                                     "\".security_events WHERE kind = 'rejected_envelope' GROUP BY reason ORDER BY 1");
      for (const auto& r : reasons) std::printf("  refused envelopes: %s\n", r.c_str());
    }
    return f;
  }

  void print(const Figures& f, std::int64_t exact) const {
    std::printf("  drain: %10.0f readings/s stored (%" PRId64 " of the %" PRId64 " spooled in %.2f s%s); count(*) %" PRId64
                " after the stop\n",
                f.rate, f.stored, f.expected, f.seconds, f.ok ? "" : ", INCOMPLETE", exact);
    if (f.js_messages > 0) {
      std::printf("  JetStream: %" PRId64 " messages taken by the workers, %" PRId64 " of them again (%" PRId64
                  " put back to wait for an announcement); %.1f readings per message\n",
                  f.js_messages, f.redelivered, f.epoch_waits, f.readings_per_message());
    }
    double ours = 0;
    for (const auto& r : f.roles) ours += r.cpu;
    std::printf("  machine: %.2f of its %u cores busy during the drain, %.2f of them the processes below\n",
                f.cpu_window > 0 ? f.machine_busy / f.cpu_window : 0, std::thread::hardware_concurrency(),
                f.cpu_window > 0 ? ours / f.cpu_window : 0);
    for (const auto& r : f.roles) {
      const double us = f.stored > 0 ? r.cpu * 1e6 / static_cast<double>(f.stored) : 0;
      std::printf("    %-20s %7.2f CPU s  %4.0f%% of a core  %7.2f us/stored reading  (%zu process%s)\n", r.name.c_str(),
                  r.cpu, f.cpu_window > 0 ? 100 * r.cpu / f.cpu_window : 0, us, r.pids.size(),
                  r.pids.size() == 1 ? "" : "es");
    }
    std::fflush(stdout);
  }
};

// ---------------------------------------------------------------------------
// The backlog: the fleet sends while no cloud listens; the gateway spools.

std::int64_t spool_backlog(const fs::path& root, const Args& a) {
  const fs::path dir = root / "backlog";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::create_symlink(root / "pki", dir / "pki");
  fs::create_symlink(root / "e3", dir / "e3");
  // The simulated devices' own E3 state on tmpfs (see pipeline_bench).
  fs::path device_state = fs::path("/dev/shm") / ("armored-scale-bench-" + std::to_string(::getpid()));
  if (!fs::is_directory("/dev/shm")) device_state = dir / "device-state";
  fs::remove_all(device_state);
  const int nobody = testing::free_tcp_port();  // nothing listens there
  write_text(dir / "gateway.toml",
             "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = " +
                 std::to_string(nobody) +
                 "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.crt\"\n"
                 "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/gateway/gw1.key\"\nticket_dir = \"tickets\"\n"
                 "[spool]\ndir = \"spool\"\n[backoff]\ninitial_ms = 1000\nmax_ms = 5000\n[status]\ninterval_s = 1\n");
  Subprocess::Options go;
  go.cwd = dir;
  go.stdout_path = dir / "gateway.out";
  go.stderr_path = dir / "gateway.err";
  Subprocess gateway({testing::armored_binary().string(), "gateway", "--config", "gateway.toml"}, go);
  if (!wait_for(dir / "gateway.out", "listening on udp", 30s)) {
    std::printf("gateway did not start: %s\n", testing::slurp(dir / "gateway.err").c_str());
    return -1;
  }
  const int udp = port_after(testing::slurp(dir / "gateway.out"), "listening on udp");
  const double speedup = a.rate * 30.0 / static_cast<double>(a.devices);
  Subprocess::Options fo;
  fo.cwd = dir;
  fo.stdout_path = dir / "fleet.json";
  fo.stderr_path = dir / "fleet.err";
  const auto start = Steady::now();
  Subprocess fleet({testing::armored_binary().string(), "--json", "fleet", "--devices", std::to_string(a.devices),
                    "--interval", "30s", "--speedup", std::to_string(speedup), "--duration",
                    std::to_string(static_cast<int>(a.seconds)) + "s", "--gateway", "127.0.0.1:" + std::to_string(udp),
                    "--pki", "pki", "--e3", "e3", "--state", device_state.string()},
                   fo);
  const auto code = fleet.wait(std::chrono::seconds(static_cast<int>(a.seconds) + 600));
  const double took = std::chrono::duration<double>(Steady::now() - start).count();
  std::error_code ec;
  fs::remove_all(device_state, ec);
  std::this_thread::sleep_for(1s);  // the gateway answers its last datagrams
  gateway.stop(15s);
  const std::string json = testing::slurp(dir / "fleet.json");
  const std::int64_t acked = json_int(json, "readings_acknowledged");
  std::printf("backlog: the fleet sealed %" PRId64 " readings in %.1f s (offering %.0f/s from %zu devices), the "
              "gateway spooled %" PRId64 " (exit %d)\n",
              json_int(json, "readings"), took, a.rate, a.devices, acked, code ? *code : -1);
  if (acked <= 0) std::printf("fleet: %s\n", testing::slurp(dir / "fleet.err").c_str());
  return acked;
}

// ---------------------------------------------------------------------------
// Summary and projection

void print_table(const std::vector<Figures>& all) {
  std::printf("\nsummary: readings/s stored while draining the same backlog, and CPU microseconds per stored reading"
              " per role\n");
  std::printf("  %-26s %9s %8s %10s | %8s %8s %8s %8s %8s | %8s\n", "configuration", "stored", "seconds", "readings/s",
              "cloud/fr", "workers", "nats", "postgres", "gateway", "total");
  for (const auto& f : all) {
    const double cloud = f.us("cloud") + f.us("front"), workers = f.us("worker"), nats = f.us("nats"),
                 pg = f.us("postgres"), gw = f.us("gateway");
    std::printf("  %-26s %9" PRId64 " %8.2f %10.0f | %8.2f %8.2f %8.2f %8.2f %8.2f | %8.2f%s\n",
                f.setup.label().c_str(), f.stored, f.seconds, f.rate, cloud, workers, nats, pg, gw,
                cloud + workers + nats + pg + gw, f.ok ? "" : "  (incomplete)");
  }
  const double base = all.empty() ? 0 : all.front().rate;
  if (base > 0) {
    std::printf("  readings/s relative to %s:", all.front().setup.label().c_str());
    for (const auto& f : all) std::printf(" %s %.2f;", f.setup.tag().c_str(), f.rate / base);
    std::printf("\n");
  }
}

// Cores per role for 1 M and 10 M devices at one reading per 30 s, from the
// CPU per reading measured in `f`.
void print_projection(const Figures& f, const Args& a) {
  const double rates[] = {1e6 / 30, 1e7 / 30};
  std::printf("\nprojection from \"%s\" (%.1f readings per JetStream message; gateway batches of up to %d): cores at"
              " 100%% busy, and nodes of %.0f cores planned %.0f%% busy\n",
              f.setup.label().c_str(), f.readings_per_message(), a.batch,
              a.node_cores, 100 * a.utilisation);
  std::printf("  %-22s %10s | %14s %8s | %14s %8s\n", "role", "us/reading", "1M dev: cores", "nodes", "10M dev: cores",
              "nodes");
  struct Row {
    const char* name;
    double us;
  };
  const std::vector<Row> rows{{"front", f.us("front")},          {"workers", f.us("worker")},
                              {"nats-server (all)", f.us("nats")}, {"postgres", f.us("postgres")},
                              {"gateway", f.us("gateway")}};
  double total = 0;
  auto line = [&](const char* name, double us) {
    std::printf("  %-22s %10.2f |", name, us);
    for (double r : rates) {
      const double cores = r * us * 1e-6;
      std::printf(" %14.1f %8.0f |", cores, std::ceil(cores / (a.node_cores * a.utilisation)));
    }
    std::printf("\n");
  };
  for (const auto& r : rows) {
    line(r.name, r.us);
    total += r.us;
  }
  line("all roles", total);
  std::printf("  (%.0f and %.0f readings/s; nodes per role rounded up separately)\n", rates[0], rates[1]);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: scale_out_bench [--seconds S] [--devices N] [--rate R] [--nodes 1,3] [--workers 1,2,3]"
               " [--batch N] [--node-cores C] [--utilisation U] [--drain-limit S] [--no-single] [--keep] [--work DIR]\n");
  std::exit(2);
}

std::vector<int> int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  std::sort(out.begin(), out.end());
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const bool has = i + 1 < argc;
    if (s == "--seconds" && has) a.seconds = std::stod(argv[++i]);
    else if (s == "--devices" && has) a.devices = static_cast<std::size_t>(std::stoul(argv[++i]));
    else if (s == "--rate" && has) a.rate = std::stod(argv[++i]);
    else if (s == "--nodes" && has) a.nodes = int_list(argv[++i]);
    else if (s == "--workers" && has) a.workers = int_list(argv[++i]);
    else if (s == "--batch" && has) a.batch = std::stoi(argv[++i]);
    else if (s == "--node-cores" && has) a.node_cores = std::stod(argv[++i]);
    else if (s == "--utilisation" && has) a.utilisation = std::stod(argv[++i]);
    else if (s == "--drain-limit" && has) a.drain_limit = std::stod(argv[++i]);
    else if (s == "--no-single") a.single = false;
    else if (s == "--keep") a.keep = true;
    else if (s == "--work" && has) a.work = argv[++i];
    else usage();
  }
  if (a.devices == 0 || a.seconds <= 0 || a.rate <= 0 || a.batch < 1 || a.batch > 255 || a.utilisation <= 0 ||
      a.utilisation > 1 || a.node_cores <= 0) {
    usage();
  }
  for (int n : a.nodes) {
    if (n != 1 && n != 3) usage();  // replicas 1, or 3 as production runs
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  testing::TempDir tmp;
  const fs::path root = a.work.empty() ? tmp.path() : fs::absolute(a.work);
  fs::create_directories(root);
  std::printf("scale_out_bench: %u cores; %zu devices; PostgreSQL \"%s\"; work dir %s\n",
              std::thread::hardware_concurrency(), a.devices, pg_dsn().c_str(), root.c_str());
  std::fflush(stdout);
  if (!testing::have_program("nats-server")) std::printf("nats-server is not installed: no scaled configurations\n");

  const std::string pki = (root / "pki").string();
  auto registry = provision::load_registry(root / "e3");
  if (registry && registry->devices.size() >= a.devices) {
    std::printf("reusing the PKI in %s\n", root.c_str());
  } else if (!step(root, {"pki", "init", "--dir", pki, "--name", "Bench CA"}) ||
             !step(root, {"pki", "issue", "cloud", "--id", "cloud", "--dns", "localhost", "--ip", "127.0.0.1", "--dir",
                          pki}) ||
             !step(root, {"pki", "issue", "gateway", "--id", "gw1", "--dir", pki}) ||
             !step(root, {"pki", "fleet", "--count", std::to_string(a.devices), "--prefix", "patient", "--dir", pki}) ||
             !step(root, {"enroll", "--pki", pki, "--e3", (root / "e3").string()})) {
    return 1;
  }
  const std::int64_t backlog = spool_backlog(root, a);
  if (backlog <= 0) return 1;

  std::vector<Setup> setups;
  if (a.single) {
    setups.push_back({Setup::Kind::kSqlite});
    setups.push_back({Setup::Kind::kPostgres});
  }
  if (testing::have_program("nats-server")) {
    for (int n : a.nodes) {
      for (int w : a.workers) setups.push_back({Setup::Kind::kScaled, n, w});
    }
  }
  std::vector<Figures> all;
  for (const auto& s : setups) {
    Run run(a, root, backlog, s);
    all.push_back(run.drain());
  }
  print_table(all);
  // The projection from the scaled configurations with the most workers,
  // one per JetStream size measured (3 nodes with replicas 3 is what
  // production runs).
  for (int n : a.nodes) {
    const Figures* best = nullptr;
    for (const auto& f : all) {
      if (f.setup.kind == Setup::Kind::kScaled && f.setup.nodes == n && f.stored > 0 &&
          (!best || f.setup.workers > best->setup.workers)) {
        best = &f;
      }
    }
    if (best) print_projection(*best, a);
  }
  if (a.keep) {
    const fs::path kept = fs::temp_directory_path() / ("scale-out-bench-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::rename(root, kept, ec);
    if (!ec) std::printf("kept %s\n", kept.c_str());
  }
  return 0;
}
