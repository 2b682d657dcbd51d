// pipeline_bench: the whole pipeline as real processes on 127.0.0.1 —
// `armored fleet` -> `armored gateway` (UDP, durable spool) -> `armored
// cloud` (mutual TLS 1.3 + MQTT QoS 1, E3 open, SQLite WAL group commit) —
// and, in the same run, a real Mosquitto broker with TLS 1.3 and client
// certificates receiving QoS 1 PUBLISHes of 96-byte messages as the
// reference. Every phase is bounded in time.
//
// For each fleet size it prints
//   live:  for each offered rate (--rate, default 100k,150k,200k,250k/s), a
//          fresh fleet runs next to gateway and cloud and durable readings/s
//          are counted from the cloud's database; the highest rate at which
//          the pipeline kept up (stored what was spooled, probe p99 < 2 s)
//          is the sustained figure;
//   drain: readings/s stored while the cloud works off a backlog that the
//          gateway spooled while the cloud was down (fleet stopped);
//   seal-to-stored latency p50/p99 from a probe device in this process;
//   peak RSS per process (VmHWM) and first-half vs second-half peak RSS.
//
// With --sealer cxx,device-sdk every fleet size runs once per sealer (`armored
// fleet --sealer`: the C++ sealer or the device SDK's C library), one after
// the other on the same machine, and the summary gives their throughput and
// the fleet's CPU per reading side by side, with the ratio.
//
//   build/release/bench/pipeline_bench [--seconds S] [--devices 5000,100000]
//                                      [--rate R,R,...] [--sealer cxx,device-sdk] [--keep]
//                                      [--baseline OTHER_ARMORED]
//
// --operator-view runs every fleet size twice in the same run, first with
// [metrics] and [dashboard] off, then on, with a scraper reading both
// /metrics pages every second and the dashboard's overview and series
// every 5 s (an open browser tab) during each live phase; it prints the
// on/off ratio of the sustained rate: what the operator's view costs.
//
// --baseline runs every fleet size twice in the same run, first with
// another `armored` binary (e.g. built from an earlier commit by
// bench/compare-commits.sh), then with this build's, and prints the
// after/before ratio: a change's cost measured on the same noisy machine.

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "metrics/scrape.h"
#include "pipeline_bench_support.h"
#include "provision/registry.h"
#include "support/process.h"

using namespace armored;
using namespace armored::bench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::Subprocess;

namespace {

struct Args {
  double seconds = 20;  // live window and backlog window per fleet size
  std::vector<std::size_t> devices{5000, 100000};
  // Readings/s the fleet offers, one live phase each: the highest rate at
  // which the pipeline keeps up is the sustained figure.
  std::vector<double> rates{100000, 150000, 200000, 250000};
  bool keep = false;
  std::string work;  // reuse this directory's PKI (made there if missing)
  int gateway_inflight = 256;  // the gateway's [forward] max_inflight (its default)
  int cloud_batch_rows = 0;    // the cloud's [storage] max_batch_rows; 0: its default
  std::vector<std::string> sealers{"cxx"};
  bool operator_view = false;  // compare [metrics] + [dashboard] off and on  // `armored fleet --sealer`, one run per fleet size each
  std::string baseline;        // another armored binary to run first, for a before/after ratio
};

// The armored binary the pipeline runs: this build's, or --baseline's for
// the "before" half of a comparison.
std::string g_armored = testing::armored_binary().string();
std::string armored_bin() { return g_armored; }

bool step(const fs::path& dir, std::vector<std::string> argv, std::chrono::seconds timeout = 600s) {
  return armored_step("pipeline_bench", armored_bin(), dir, std::move(argv), timeout);
}

struct Pipeline {
  fs::path dir;
  // The simulated devices' own E3 state (their flash, two fsyncs per write)
  // lives on tmpfs: 100,000 devices starting an epoch each would otherwise
  // spend minutes in fsync before the first reading. The spool and the
  // cloud's database, whose durability is measured, stay on disk.
  fs::path device_state;
  int cloud_port = 0;
  int udp_port = 0;
  int cloud_starts = 0;
  std::string sealer = "cxx";
  bool operator_view = false;  // [metrics] on cloud and gateway, [dashboard] on the cloud
  int cloud_metrics_port = 0, dashboard_port = 0, gateway_metrics_port = 0;
  std::unique_ptr<Subprocess> cloud, gateway, fleet;

  bool start_cloud() {
    write_text(dir / "cloud.toml",
               "[listen]\naddress = \"127.0.0.1\"\nport = " + std::to_string(cloud_port) +
                   "\n[tls]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/cloud/cloud.crt\"\n"
                   "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/cloud/cloud.key\"\ncrl = \"pki/crl.pem\"\n"
                   "[e3]\ndir = \"e3\"\npki_dir = \"pki\"\nstate_file = \"cloud.e3state\"\n"
                   // Tens of readings per second per device (to reach the rate with 5,000
                   // devices): a re-sent reading can arrive far behind its successors.
                   "replay_window = 1024\n"
                   "[storage]\nsqlite_path = \"cloud.db\"\n" +
                   (cloud_batch_rows > 0 ? "max_batch_rows = " + std::to_string(cloud_batch_rows) + "\n" : "") +
                   "[status]\ninterval_s = 1\n" +
                   (operator_view ? "[metrics]\nport = 0\n[dashboard]\nport = 0\n" : ""));
    const auto out = dir / ("cloud" + std::to_string(++cloud_starts) + ".out");
    Subprocess::Options o;
    o.cwd = dir;
    o.stdout_path = out;
    o.stderr_path = dir / ("cloud" + std::to_string(cloud_starts) + ".err");
    cloud = std::make_unique<Subprocess>(std::vector<std::string>{armored_bin(), "cloud", "--config", "cloud.toml"}, o);
    if (!wait_for(out, "listening on", 300s)) return false;
    if (operator_view && !wait_for(out, "dashboard on", 30s)) return false;
    cloud_port = port_after(testing::slurp(out), "listening on");
    if (operator_view) {
      cloud_metrics_port = port_after(testing::slurp(out), "metrics on http://127.0.0.1");
      dashboard_port = port_after(testing::slurp(out), "dashboard on https://127.0.0.1");
    }
    return cloud_port > 0;
  }
  int gateway_inflight = 256;
  int cloud_batch_rows = 0;
  bool start_gateway() {
    write_text(dir / "gateway.toml",
               "id = \"gw1\"\n[udp]\naddress = \"127.0.0.1\"\nport = 0\n[cloud]\nhost = \"localhost\"\nport = " +
                   std::to_string(cloud_port) +
                   "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/gw1.crt\"\n"
                   "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/gateway/gw1.key\"\nticket_dir = \"tickets\"\n"
                   "[spool]\ndir = \"spool\"\n[forward]\nmax_inflight = " + std::to_string(gateway_inflight) +
                   "\n[backoff]\ninitial_ms = 100\nmax_ms = 500\n[status]\ninterval_s = 1\n" +
                   (operator_view ? "[metrics]\nport = 0\n" : ""));
    Subprocess::Options o;
    o.cwd = dir;
    o.stdout_path = dir / "gateway.out";
    o.stderr_path = dir / "gateway.err";
    gateway = std::make_unique<Subprocess>(std::vector<std::string>{armored_bin(), "gateway", "--config", "gateway.toml"}, o);
    if (!wait_for(dir / "gateway.out", "listening on udp", 30s)) return false;
    udp_port = port_after(testing::slurp(dir / "gateway.out"), "listening on udp");
    if (operator_view) {
      if (!wait_for(dir / "gateway.out", "metrics on", 30s)) return false;
      gateway_metrics_port = port_after(testing::slurp(dir / "gateway.out"), "metrics on http://127.0.0.1");
    }
    return udp_port > 0;
  }
  void start_fleet(std::size_t devices, double rate, double seconds) {
    const double speedup = rate * 30.0 / static_cast<double>(devices);
    Subprocess::Options o;
    o.cwd = dir;
    o.stdout_path = dir / "fleet.json";
    o.stderr_path = dir / "fleet.err";
    std::vector<std::string> argv{armored_bin(), "--json", "fleet", "--devices", std::to_string(devices), "--interval",
                                  "30s", "--speedup", std::to_string(speedup), "--duration",
                                  std::to_string(static_cast<int>(seconds)) + "s", "--gateway",
                                  "127.0.0.1:" + std::to_string(udp_port), "--pki", "pki", "--e3", "e3", "--state",
                                  device_state.string()};
    // Only when not the default: a --baseline binary may predate the option.
    if (sealer != "cxx") argv.insert(argv.end(), {"--sealer", sealer});
    fleet = std::make_unique<Subprocess>(argv, o);
  }
};

// The gateway's "N spooled" counter from its last status line.
std::int64_t gateway_spooled(const fs::path& err) {
  const std::string text = testing::slurp(err);
  auto p = text.rfind(" spooled, ");
  if (p == std::string::npos) return -1;
  auto start = text.rfind(", ", p);
  return start == std::string::npos ? -1 : std::atoll(text.c_str() + start + 2);
}

struct Cpu {
  std::vector<double> at;
  static Cpu of(const std::vector<pid_t>& pids) {
    Cpu c;
    for (pid_t p : pids) c.at.push_back(proc_cpu_seconds(p));
    return c;
  }
};

// CPU each process used between two samples, per reading, and what that
// cost means for a machine with `cores` cores doing nothing else.
// readings[i]: what process i's CPU is divided by (the cloud's work is per
// stored reading, the fleet's and the gateway's ingress per spooled one:
// under overload the two differ).
void print_cpu(const std::vector<std::string>& names, const Cpu& a, const Cpu& b, double secs,
               const std::vector<double>& readings, const std::vector<const char*>& per_what) {
  double total_us = 0;
  std::printf("    CPU used:");
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double used = b.at[i] - a.at[i];
    const double us = readings[i] > 0 ? used * 1e6 / readings[i] : 0;
    total_us += us;
    std::printf(" %s %.2f s (%.0f%% of a core, %.2f us/%s)%s", names[i].c_str(), used, 100 * used / secs, us,
                per_what[i], i + 1 < names.size() ? "," : "\n");
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("    CPU per reading, all processes: %.2f us -> %.0f readings/s if these %u cores ran nothing else\n",
              total_us, total_us > 0 ? cores * 1e6 / total_us : 0, cores);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// Waits until the stored count has not moved for `still` (or `timeout`).
Count wait_until_still(const fs::path& db, std::chrono::milliseconds still, std::chrono::seconds timeout) {
  Count last = count_readings(db);
  auto moved_at = Steady::now();
  const auto until = Steady::now() + timeout;
  while (Steady::now() < until) {
    std::this_thread::sleep_for(200ms);
    Count c = count_readings(db);
    if (c.rows != last.rows) {
      last = c;
      moved_at = Steady::now();
    } else if (Steady::now() - moved_at >= still) {
      break;
    }
  }
  return last;
}

void print_rss(const std::vector<RssSampler::Figures>& figs) {
  for (const auto& f : figs) {
    std::printf("    %-8s peak RSS (VmHWM) %7.1f MiB; peak RSS first half %7.1f MiB, second half %7.1f MiB (%zu samples)\n",
                f.name.c_str(), static_cast<double>(f.hwm_kb) / 1024, static_cast<double>(f.first_half_kb) / 1024,
                static_cast<double>(f.second_half_kb) / 1024, f.samples);
  }
}

struct LiveFigures {
  double offered = 0, stored = 0, spooled = 0, p50 = -1, p99 = -1;
  double fleet_us = 0;  // the fleet's CPU per spooled reading (sealing is most of it)
  // The pipeline kept up: it stored what the gateway spooled, and the
  // probe's readings were stored within a second or two, not queued behind
  // a growing backlog.
  bool kept_up() const { return spooled > 0 && stored >= 0.95 * spooled && p99 >= 0 && p99 < 2000; }
};

struct RunFigures {
  std::string sealer;
  std::vector<LiveFigures> live;
  double drain = 0, reference = 0;
  // The highest stored rate among the live phases that kept up (0 if none).
  double sustained() const {
    double best = 0;
    for (const auto& l : live) {
      if (l.kept_up()) best = std::max(best, l.stored);
    }
    return best;
  }
};

// What an operator's tools do while the pipeline runs: Prometheus scraping
// both /metrics pages every second (15 times its default), and a browser
// tab on the dashboard reloading its overview and series every 5 s.
class OperatorLoad {
 public:
  explicit OperatorLoad(const Pipeline& p) : p_(p) {
    if (p.operator_view) thread_ = std::thread([this] { run(); });
  }
  ~OperatorLoad() { finish(); }
  // Scrapes that failed or returned nothing: the view must keep answering.
  std::string finish() {
    if (thread_.joinable()) {
      {
        std::lock_guard lk(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    return p_.operator_view ? std::to_string(scrapes_) + " scrapes (" + std::to_string(failures_) + " failed), " +
                                  std::to_string(pages_) + " dashboard loads"
                            : "";
  }

 private:
  void run() {
    const std::string token = testing::slurp(p_.dir / "dashboard.token").substr(0, 64);
    for (int tick = 0;; ++tick) {
      for (int port : {p_.cloud_metrics_port, p_.gateway_metrics_port}) {
        auto s = metrics::scrape("127.0.0.1", static_cast<std::uint16_t>(port), 5s);
        ++scrapes_;
        if (!s || s->empty()) ++failures_;
      }
      if (tick % 5 == 0) {
        for (const char* path : {"/api/overview", "/api/series"}) {
          auto r = testing::run({"curl", "-sk", "-o", "/dev/null", "--max-time", "10", "-H",
                                 "Authorization: Bearer " + token,
                                 "https://127.0.0.1:" + std::to_string(p_.dashboard_port) + path},
                                20s);
          if (r.exit_code == 0) ++pages_;
        }
      }
      std::unique_lock lk(mu_);
      if (cv_.wait_for(lk, 1s, [this] { return stop_; })) return;
    }
  }
  const Pipeline& p_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t scrapes_ = 0, failures_ = 0, pages_ = 0;
};

// One live phase: a fresh fleet offering `rate`, measured for a.seconds with
// the latency probe beside it; the fleet is then stopped and the pipeline
// left to clear whatever backlog it built before the next phase.
LiveFigures live_phase(Pipeline& p, std::size_t devices, double rate, const fs::path& root, const Args& a) {
  LiveFigures out;
  out.offered = rate;
  std::printf("\n  -- fleet offering %.0f readings/s (%.1f per device per second)\n", rate,
              rate / static_cast<double>(devices));
  std::fflush(stdout);
  const double fleet_seconds = 3 * a.seconds + 600;  // stopped by us; bounded anyway
  p.start_fleet(devices, rate, fleet_seconds);
  // The fleet loads its keys and starts (or re-announces) an epoch per device first.
  const fs::path db = p.dir / "cloud.db";
  const Count at_start = count_readings(db);
  const auto load_until = Steady::now() + 600s;
  while (Steady::now() < load_until &&
         count_readings(db).rows < at_start.rows + static_cast<std::int64_t>(devices) / 2) {
    if (!p.fleet->running()) {
      std::printf("  fleet exited: %s\n", testing::slurp(p.dir / "fleet.err").c_str());
      return out;
    }
    std::this_thread::sleep_for(200ms);
  }
  LatencyProbe::Options po;
  po.pki_dir = root / "pki";
  po.e3_dir = root / "e3";
  po.state_dir = p.dir / "probe-state";
  po.db = db;
  po.device_id = "probe-0001";  // sorts after every patient-NNNN: never one of the fleet's
  po.gateway_port = static_cast<std::uint16_t>(p.udp_port);
  LatencyProbe probe(po);
  probe.start();
  std::this_thread::sleep_for(2s);  // warm-up
  RssSampler rss({{"cloud", p.cloud->pid()}, {"gateway", p.gateway->pid()}, {"fleet", p.fleet->pid()}}, 100ms);
  const std::vector<pid_t> pids{p.cloud->pid(), p.gateway->pid(), p.fleet->pid()};
  OperatorLoad operator_load(p);
  const Count c0 = count_readings(db);
  const Cpu cpu0 = Cpu::of(pids);
  const auto spooled0 = gateway_spooled(p.dir / "gateway.err");
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  const Count c1 = count_readings(db);
  const Cpu cpu1 = Cpu::of(pids);
  const auto spooled1 = gateway_spooled(p.dir / "gateway.err");
  auto figs = rss.finish();
  if (p.operator_view) std::printf("    operator view: %s\n", operator_load.finish().c_str());
  // The probe's last readings queue behind whatever backlog there is: wait
  // for them (up to 30 s, the fleet still running) so the latency says how
  // long that queue was.
  probe.stop_sealing();
  const auto probe_until = Steady::now() + 30s;
  while (probe.outstanding() > 0 && Steady::now() < probe_until) std::this_thread::sleep_for(50ms);
  std::size_t unseen = 0;
  auto lat = probe.finish(&unseen);
  const double secs = std::chrono::duration<double>(c1.at - c0.at).count();
  out.stored = static_cast<double>(c1.rows - c0.rows) / secs;
  out.spooled = static_cast<double>(spooled1 - spooled0) / secs;
  out.p50 = percentile(lat, 0.5);
  out.p99 = percentile(lat, 0.99);
  if (unseen > 0) out.p99 = std::max(out.p99, 30000.0);  // not seen within 30 s: not keeping up
  std::printf("  live : %10.0f readings/s stored durably (%" PRId64 " rows in %.2f s, counted in cloud.db)\n", out.stored,
              c1.rows - c0.rows, secs);
  if (!probe.error().empty()) std::printf("  probe: %s\n", probe.error().c_str());
  std::printf("  seal-to-stored latency (probe device, %zu readings, %zu not seen): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              lat.size(), unseen, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1.0));
  std::printf("  ingress: the gateway spooled %.0f readings/s meanwhile; %s\n", out.spooled,
              out.kept_up() ? "the pipeline kept up" : "the pipeline fell behind (backlog grew)");
  const auto stored = static_cast<double>(c1.rows - c0.rows);
  const auto spooled = static_cast<double>(spooled1 - spooled0);
  out.fleet_us = spooled > 0 ? (cpu1.at[2] - cpu0.at[2]) * 1e6 / spooled : 0;
  print_cpu({"cloud", "gateway", "fleet"}, cpu0, cpu1, secs, {stored, spooled, spooled},
            {"stored", "spooled", "spooled"});
  print_rss(figs);
  p.fleet->signal(SIGKILL);
  (void)p.fleet->wait(5s);
  // Clear the backlog before the next phase (bounded).
  (void)wait_until_still(db, 3000ms, 300s);
  return out;
}

// One fleet size: live phases at each offered rate, then a backlog spooled
// with the cloud down and drained.
RunFigures run_size(const fs::path& root, std::size_t devices, const std::string& sealer, const Args& a,
                    const std::string& label = "") {
  RunFigures out;
  out.sealer = sealer;
  Pipeline p;
  p.sealer = sealer;
  p.gateway_inflight = a.gateway_inflight;
  p.cloud_batch_rows = a.cloud_batch_rows;
  p.operator_view = label == "-on";
  // A fresh cloud, gateway and device state per sealer: each starts from
  // nothing, as the other did.
  const std::string run = std::to_string(devices) + "-" + sealer + label;
  p.dir = root / ("run-" + run);
  fs::create_directories(p.dir);
  p.device_state = fs::path("/dev/shm") / ("armored-bench-" + std::to_string(::getpid()) + "-" + run);
  if (!fs::is_directory("/dev/shm")) p.device_state = p.dir / "device-state";
  fs::remove_all(p.device_state);
  struct RemoveAfter {
    fs::path path;
    ~RemoveAfter() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } remove_state{p.device_state};
  fs::create_symlink(root / "pki", p.dir / "pki");
  fs::create_symlink(root / "e3", p.dir / "e3");
  std::printf("\n== %zu devices, gateway window %d, fleet sealer %s%s ==\n", devices, a.gateway_inflight, sealer.c_str(),
              label.empty() ? "" : (", " + label.substr(1) + ": " + armored_bin()).c_str());
  if (!p.start_cloud() || !p.start_gateway()) {
    std::printf("  cloud or gateway did not start: %s %s\n", testing::slurp(p.dir / "cloud1.err").c_str(),
                testing::slurp(p.dir / "gateway.err").c_str());
    return out;
  }
  const fs::path db = p.dir / "cloud.db";
  for (double rate : a.rates) out.live.push_back(live_phase(p, devices, rate, root, a));

  // Drain: the cloud goes away, the fleet keeps sending for a while (the
  // gateway spools), the fleet stops, the cloud comes back and works off
  // the backlog with nothing else running.
  std::printf("\n  -- drain: fleet offering %.0f readings/s with the cloud stopped, then the cloud restarted\n",
              a.rates.back());
  p.start_fleet(devices, a.rates.back(), 3 * a.seconds + 600);
  // The fleet loads its keys and announces an epoch per device before its
  // first reading: at 100,000 devices that takes longer than the cloud's
  // down time, so a fixed wait here stopped the fleet before it had sent
  // anything and the drain had nothing to store. Wait until readings flow.
  {
    const Count at_start = count_readings(db);
    const auto until = Steady::now() + 600s;
    while (Steady::now() < until && p.fleet->running() &&
           count_readings(db).rows < at_start.rows + static_cast<std::int64_t>(devices) / 2) {
      std::this_thread::sleep_for(200ms);
    }
  }
  p.cloud->stop(15s);
  const auto spooled_down0 = gateway_spooled(p.dir / "gateway.err");
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  p.fleet->signal(SIGKILL);
  (void)p.fleet->wait(5s);
  std::this_thread::sleep_for(1s);  // the gateway answers its last datagrams
  std::printf("  the gateway spooled %.0f readings while the cloud was down\n",
              static_cast<double>(gateway_spooled(p.dir / "gateway.err") - spooled_down0));
  const Count before = count_readings(db);
  if (!p.start_cloud()) {
    std::printf("  cloud did not restart\n");
    return out;
  }
  RssSampler rss2({{"cloud", p.cloud->pid()}, {"gateway", p.gateway->pid()}}, 100ms);
  // Start of the drain: the first new row.
  Count d0 = before;
  const auto first_until = Steady::now() + 60s;
  while (Steady::now() < first_until) {
    d0 = count_readings(db);
    if (d0.rows > before.rows) break;
    std::this_thread::sleep_for(20ms);
  }
  const std::vector<pid_t> dpids{p.cloud->pid(), p.gateway->pid()};
  const Cpu dcpu0 = Cpu::of(dpids);
  // A restarted cloud can pause (a gateway reconnecting after back-off):
  // the drain ends after 5 s without a new row, or after 120 s.
  const Count d1 = wait_until_still(db, 5000ms, 120s);
  const Cpu dcpu1 = Cpu::of(dpids);
  auto figs2 = rss2.finish();
  // The last 5 s were idle; measure to the last sample that moved.
  const double dsecs = std::chrono::duration<double>(d1.at - d0.at).count();
  out.drain = dsecs > 0 ? static_cast<double>(d1.rows - d0.rows) / dsecs : 0;
  std::printf("  drain: %10.0f readings/s stored durably (%" PRId64 " spooled rows in %.2f s, fleet stopped)\n",
              out.drain, d1.rows - d0.rows, dsecs);
  // Includes the 5 s of idling at the end (little CPU).
  const auto drained = static_cast<double>(d1.rows - d0.rows);
  print_cpu({"cloud", "gateway"}, dcpu0, dcpu1, dsecs + 5, {drained, drained}, {"stored", "forwarded"});
  print_rss(figs2);
  p.gateway->stop(10s);
  p.cloud->stop(15s);
  return out;
}

// Per fleet size run with both sealers: the device SDK's figures over the
// C++ sealer's, from the same bench run (so the same machine and load).
void print_sealer_ratios(const std::vector<std::pair<std::size_t, RunFigures>>& results) {
  for (const auto& [n, cxx] : results) {
    if (cxx.sealer != "cxx") continue;
    for (const auto& [m, sdk] : results) {
      if (m != n || sdk.sealer != "device-sdk") continue;
      std::printf("\nsealers, %zu devices (device-sdk / cxx, same run):\n", n);
      for (std::size_t i = 0; i < cxx.live.size() && i < sdk.live.size(); ++i) {
        const auto& c = cxx.live[i];
        const auto& s = sdk.live[i];
        std::printf("    offered %7.0f/s: stored %7.0f/s vs %7.0f/s (ratio %.2f); fleet CPU %.2f vs %.2f us/reading (ratio %.2f)\n",
                    c.offered, s.stored, c.stored, c.stored > 0 ? s.stored / c.stored : 0, s.fleet_us, c.fleet_us,
                    c.fleet_us > 0 ? s.fleet_us / c.fleet_us : 0);
      }
      const double cs = cxx.sustained(), ss = sdk.sustained();
      std::printf("    sustained live %.0f/s vs %.0f/s (ratio %.2f); drain %.0f/s vs %.0f/s\n", ss, cs,
                  cs > 0 ? ss / cs : 0, sdk.drain, cxx.drain);
    }
  }
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: pipeline_bench [--seconds S] [--devices N,N] [--rate R,R,...] [--sealer cxx,device-sdk] [--keep] [--work DIR] [--gateway-inflight N] [--cloud-batch-rows N] [--baseline ARMORED] [--operator-view]\n"
                       "example: pipeline_bench --devices 5000 --rate 200000 --seconds 10 --baseline /tmp/old/armored\n");
  std::exit(2);
}

// "1,2,3" -> {1, 2, 3}, ascending.
template <typename T>
std::vector<T> sorted_list(const std::string& text) {
  std::vector<T> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(static_cast<T>(std::stod(item)));
  std::sort(out.begin(), out.end());
  return out;
}

// "a,b" -> {"a", "b"}, in the given order.
std::vector<std::string> names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--seconds" && i + 1 < argc) a.seconds = std::stod(argv[++i]);
    else if (s == "--rate" && i + 1 < argc) a.rates = sorted_list<double>(argv[++i]);
    else if (s == "--keep") a.keep = true;
    else if (s == "--work" && i + 1 < argc) a.work = argv[++i];
    else if (s == "--gateway-inflight" && i + 1 < argc) a.gateway_inflight = std::stoi(argv[++i]);
    else if (s == "--cloud-batch-rows" && i + 1 < argc) a.cloud_batch_rows = std::stoi(argv[++i]);
    else if (s == "--devices" && i + 1 < argc) a.devices = sorted_list<std::size_t>(argv[++i]);
    else if (s == "--sealer" && i + 1 < argc) a.sealers = names(argv[++i]);
    else if (s == "--baseline" && i + 1 < argc) a.baseline = argv[++i];
    else if (s == "--operator-view") a.operator_view = true;
    else usage();
  }
  if (a.devices.empty() || a.rates.empty() || a.sealers.empty()) usage();
  for (const auto& s : a.sealers) {
    if (s != "cxx" && s != "device-sdk") usage();
  }
  if (!a.baseline.empty() && !fs::exists(a.baseline)) {
    std::fprintf(stderr, "pipeline_bench: --baseline %s: no such file\n", a.baseline.c_str());
    std::exit(2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  testing::TempDir tmp;
  const fs::path root = a.work.empty() ? tmp.path() : fs::absolute(a.work);
  fs::create_directories(root);
  const std::size_t total = a.devices.back();
  std::printf("pipeline_bench: %u cores, PKI of %zu devices (+1 latency probe) in %s\n", std::thread::hardware_concurrency(), total,
              root.c_str());
  std::fflush(stdout);
  const std::string pki = (root / "pki").string();
  auto registry = provision::load_registry(root / "e3");
  const bool reuse = registry && registry->devices.size() >= total + 1 && registry->find_device("probe-0001");
  if (reuse) {
    std::printf("reusing the PKI in %s\n", root.c_str());
  } else if (!step(root, {"pki", "init", "--dir", pki, "--name", "Bench CA"}) ||
      !step(root, {"pki", "issue", "cloud", "--id", "cloud", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", pki}) ||
      !step(root, {"pki", "issue", "gateway", "--id", "gw1", "--dir", pki}) ||
      !step(root, {"pki", "fleet", "--count", std::to_string(total), "--prefix", "patient", "--dir", pki}) ||
      !step(root, {"pki", "fleet", "--count", "1", "--prefix", "probe", "--dir", pki}) ||
      !step(root, {"enroll", "--pki", pki, "--e3", (root / "e3").string()})) {
    return 1;
  }
  for (std::size_t n : a.devices) {
    for (const auto& s : a.sealers) {
      for (const char* label : {"", "-before", "-after", "-off", "-on"}) {
        fs::remove_all(root / ("run-" + std::to_string(n) + "-" + s + label));
      }
    }
  }

  // The reference right before each pipeline run, so both see the same
  // machine (it is shared: the ratio matters more than either figure).
  std::vector<std::pair<std::size_t, RunFigures>> results;
  struct Comparison {
    std::size_t devices;
    RunFigures before, after;
  };
  std::vector<Comparison> comparisons;
  for (std::size_t n : a.devices) {
    std::string detail;
    const double ref = mosquitto_reference_rate(root / "pki", root, 5.0, 4096, &detail);
    std::printf("\nreference: mosquitto QoS 1 PUBLISH, 96-byte payload, TLS 1.3 + client certificate: %.0f msg/s (%s)\n",
                ref, detail.c_str());
    std::fflush(stdout);
    for (const auto& sealer : a.sealers) {
      if (a.operator_view) {
        RunFigures off = run_size(root, n, sealer, a, "-off");
        off.reference = ref;
        RunFigures on = run_size(root, n, sealer, a, "-on");
        on.reference = ref;
        comparisons.push_back({n, off, on});
        std::fflush(stdout);
        continue;
      }
      if (!a.baseline.empty()) {
        g_armored = a.baseline;
        RunFigures before = run_size(root, n, sealer, a, "-before");
        before.reference = ref;
        g_armored = testing::armored_binary().string();
        RunFigures after = run_size(root, n, sealer, a, "-after");
        after.reference = ref;
        comparisons.push_back({n, before, after});
        std::fflush(stdout);
        continue;
      }
      RunFigures f = run_size(root, n, sealer, a);
      f.reference = ref;
      results.emplace_back(n, f);
      std::fflush(stdout);
    }
  }
  if (!comparisons.empty()) {
    if (a.operator_view) {
      std::printf("\noperator view off/on (same run, same binary; on = [metrics] on cloud and gateway scraped every"
                  " second, [dashboard] loaded every 5 s):\n");
    } else {
      std::printf("\nbefore/after (same run; before = %s, after = %s):\n", a.baseline.c_str(),
                  testing::armored_binary().c_str());
    }
    for (const auto& c : comparisons) {
      auto ratio = [](double after, double before) { return before > 0 ? after / before : 0.0; };
      std::printf("  %6zu devices, sealer %s:\n", c.devices, c.after.sealer.c_str());
      for (std::size_t i = 0; i < c.before.live.size() && i < c.after.live.size(); ++i) {
        std::printf("    offered %7.0f/s: stored %7.0f/s before, %7.0f/s after (after/before %.2f); p99 %.0f ms "
                    "before, %.0f ms after\n",
                    c.before.live[i].offered, c.before.live[i].stored, c.after.live[i].stored,
                    ratio(c.after.live[i].stored, c.before.live[i].stored), c.before.live[i].p99, c.after.live[i].p99);
      }
      std::printf("    sustained live %.0f/s before, %.0f/s after (after/before %.2f); drain %.0f/s before, %.0f/s "
                  "after (after/before %.2f)\n",
                  c.before.sustained(), c.after.sustained(), ratio(c.after.sustained(), c.before.sustained()),
                  c.before.drain, c.after.drain, ratio(c.after.drain, c.before.drain));
    }
    return 0;
  }
  std::printf("\nsummary (ratio = our durable readings/s / mosquitto's acknowledged PUBLISHes/s, same run):\n");
  for (const auto& [n, f] : results) {
    const double ref = f.reference;
    const double r = ref > 0 ? ref : 1;
    std::printf("  %6zu devices, sealer %s (mosquitto %.0f/s, target 200000/s):\n", n, f.sealer.c_str(), ref);
    for (const auto& l : f.live) {
      std::printf("    offered %7.0f/s: stored %7.0f/s (ratio %.2f), p50 %.0f ms, p99 %.0f ms, fleet %.2f us/reading%s\n",
                  l.offered, l.stored, l.stored / r, l.p50, l.p99, l.fleet_us, l.kept_up() ? "" : "  (fell behind)");
    }
    std::printf("    sustained live %.0f/s (ratio %.2f); drain %.0f/s (ratio %.2f)\n", f.sustained(), f.sustained() / r,
                f.drain, f.drain / r);
  }
  print_sealer_ratios(results);
  if (a.keep) {
    const fs::path kept = fs::temp_directory_path() / ("pipeline-bench-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::rename(root, kept, ec);
    if (!ec) std::printf("kept %s\n", kept.c_str());
  }
  return 0;
}
