// The scaled cloud (docs/scale-out.md) as real processes: a three-node NATS
// JetStream cluster, fronts and ingest workers of `armored cloud` sharing a
// PostgreSQL schema, a gateway and a fleet. Every reading the fleet sealed
// is stored exactly once, counted by (device, epoch, sequence), also when a
// worker, a front and a JetStream node are killed under load.

#include <libpq-fe.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <future>
#include <random>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_schema.h"
#include "pipeline_fixture.h"
#include "jetstream/jetstream.h"
#include "support/nats_cluster.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::NatsCluster;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::Subprocess;

using armored::testing::PgSchema;

class ScaleOutTest : public PipelineTest {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgSchema>("armored_scale");
    if (!db_->connected()) GTEST_FAIL() << db_->unreachable();
    std::random_device rd;
    stream_ = "ARMORED_TEST_" + std::to_string(rd() % 1000000);
  }
  void TearDown() override {
    for (auto* group : {&workers_, &fronts_}) {
      for (auto& p : *group) {
        if (p && p->running()) p->stop(5s);
      }
    }
    db_.reset();
  }

  void start_nats(int nodes) {
    nats_ = std::make_unique<NatsCluster>(tmp_, nodes);
    ASSERT_TRUE(nats_->error().empty()) << nats_->error();
  }

  std::string cluster_toml(const std::string& role) const {
    std::string servers;
    for (const auto& u : nats_->urls()) servers += (servers.empty() ? "\"" : ", \"") + u + "\"";
    return "[cluster]\nrole = \"" + role + "\"\nnats = [" + servers + "]\nstream = \"" + stream_ +
           "\"\nreplicas = " + std::to_string(nats_->size() >= 3 ? 3 : 1) +
           "\nack_wait_s = 5\nrequest_timeout_ms = 3000\n" + cluster_extra_;
  }

  // `name` ("front-1", "worker-2") names its state file and admin socket.
  std::string role_config(const std::string& role, int port, const std::string& name) const {
    return "[listen]\naddress = \"127.0.0.1\"\nport = " + std::to_string(port) +
           "\n[tls]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/cloud/cloud.crt\"\n"
           "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/cloud/cloud.key\"\ncrl = \"pki/crl.pem\"\n"
           "ticket_key_file = \"\"\n[e3]\ndir = \"e3\"\npki_dir = \"pki\"\nstate_file = \"" + name +
           ".e3state\"\n" + db_->storage_toml() + "[admin]\nenabled = " +
           (role == "front" ? "true\nsocket = \"" + name + ".sock\"" : std::string("false")) +
           "\n[status]\ninterval_s = 1\n" +
           cluster_toml(role);
  }

  // Front `n` (1-based), on its own port (0 the first time, then the same).
  // `metrics`: with [metrics] on a free port (front_metrics_port_ once it is up).
  Process start_front(int n, bool metrics = false) {
    if (front_ports_.size() < static_cast<std::size_t>(n)) front_ports_.resize(static_cast<std::size_t>(n), 0);
    int& port = front_ports_[static_cast<std::size_t>(n - 1)];
    const std::string cfg = "front-" + std::to_string(n) + ".toml";
    std::ofstream(dir() / cfg) << role_config("front", port, "front-" + std::to_string(n))
                               << (metrics ? "[metrics]\nport = 0\n" : "");
    const std::string tag = "front" + std::to_string(n) + "-" + std::to_string(++starts_);
    Subprocess::Options o;
    o.cwd = dir();
    o.stdout_path = dir() / (tag + ".out");
    o.stderr_path = dir() / (tag + ".err");
    auto p = std::make_unique<Subprocess>(armored({"cloud", "--config", cfg}), o);
    auto out = wait_for_text(o.stdout_path, "listening on", 40s);
    std::smatch m;
    static const std::regex port_re("listening on 127\\.0\\.0\\.1:(\\d+)");
    EXPECT_TRUE(std::regex_search(out, m, port_re)) << out << slurp(o.stderr_path);
    if (!m.empty()) port = std::stoi(m[1]);
    static const std::regex metrics_re("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
    if (metrics) {
      out = wait_for_text(o.stdout_path, "/metrics", 10s);
      if (std::regex_search(out, m, metrics_re)) front_metrics_port_ = std::stoi(m[1]);
    }
    return p;
  }

  // `metrics`: with [metrics] on a free port (worker_metrics_port_ once it is up).
  Process start_worker(int n, bool metrics = false) {
    const std::string cfg = "worker-" + std::to_string(n) + ".toml";
    std::ofstream(dir() / cfg) << role_config("worker", 0, "worker-" + std::to_string(n))
                               << (metrics ? "[metrics]\nport = 0\n" : "");
    const std::string tag = "worker" + std::to_string(n) + "-" + std::to_string(++starts_);
    Subprocess::Options o;
    o.cwd = dir();
    o.stdout_path = dir() / (tag + ".out");
    o.stderr_path = dir() / (tag + ".err");
    auto p = std::make_unique<Subprocess>(armored({"cloud", "--config", cfg}), o);
    auto out = wait_for_text(o.stdout_path, metrics ? "/metrics" : "worker consuming", 40s);
    EXPECT_NE(out.find("worker consuming"), std::string::npos) << slurp(o.stderr_path);
    std::smatch m;
    static const std::regex port_re("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
    if (metrics && std::regex_search(out, m, port_re)) worker_metrics_port_ = std::stoi(m[1]);
    return p;
  }

  // The gateway forwards to front 1, with the other fronts as alternates.
  Process start_gateway_to_fronts() {
    gateway_upstream_port_ = front_ports_.at(0);
    std::string alternates;
    for (std::size_t i = 1; i < front_ports_.size(); ++i) {
      alternates += (alternates.empty() ? "\"" : ", \"") + std::string("localhost:") + std::to_string(front_ports_[i]) + "\"";
    }
    gateway_cloud_toml_ = alternates.empty() ? "" : "alternates = [" + alternates + "]\n";
    return start_gateway();
  }

  std::string pg(const std::string& query) { return db_->query(query); }
  std::int64_t pg_int(const std::string& query) { return db_->integer(query); }
  bool wait_pg_stored(std::int64_t n, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (db_->has_tables() && pg_int("SELECT count(*) FROM readings") >= n) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }
  // The fault row: sent, stored, lost and duplicated by (device, epoch, seq).
  // No gaps by the cloud's own account (`armored report gaps`), in which a
  // device's answers to commands hold the sequence numbers they took.
  void expect_every_reading_once(const std::string& fault, const FleetRun& f) {
    const std::int64_t stored = pg_int("SELECT count(*) FROM readings");
    const std::int64_t distinct = pg_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings) d");
    std::cout << "[ fault    ] " << fault << " | sent " << f.readings << " | stored " << stored << " | lost "
              << (f.readings - distinct) << " | duplicated " << (stored - distinct) << std::endl;
    EXPECT_EQ(distinct, f.readings) << fault;
    EXPECT_EQ(stored, distinct) << fault;
    EXPECT_EQ(f.readings_acknowledged, f.readings);
    auto gaps = run(armored({"--json", "report", "gaps", "--config", (dir() / "worker-1.toml").string()}), 60s);
    EXPECT_EQ(gaps.exit_code, 0) << "gaps in the stored sequence numbers: " << gaps.out << gaps.err;
    auto j = nlohmann::json::parse(gaps.out, nullptr, false);
    EXPECT_EQ(j.is_object() ? j.value("missing", -1) : -1, 0) << gaps.out;
    // The stored runs (what `armored report gaps` reads) agree with the readings.
    EXPECT_EQ(pg_int("SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM stored_ranges"), distinct);
    // Nothing refused but duplicates: no reading lost to "unknown epoch".
    EXPECT_EQ(pg("SELECT string_agg(reason || ' ' || detail, '; ') FROM security_events WHERE kind = "
                 "'rejected_envelope' AND reason NOT IN ('replayed', 'redelivered')"),
              "");
  }

  std::unique_ptr<PgSchema> db_;
  std::string stream_;
  std::unique_ptr<NatsCluster> nats_;
  std::vector<int> front_ports_;
  std::vector<Process> fronts_, workers_;
  std::string cluster_extra_;  // more [cluster] keys for every role
  int starts_ = 0;
  int worker_metrics_port_ = 0;
  int front_metrics_port_ = 0;
};

// One front carries the gateway; a command sent through the other front
// reaches the device through it, and the device's answer, opened by a
// worker, comes back to the front that sent it.
TEST_F(ScaleOutTest, FrontsAndWorkersStoreEveryReadingOnceAndCommandsCrossFronts) {
  start_nats(1);
  make_pki(12);
  fronts_.push_back(start_front(1, /*metrics=*/true));
  fronts_.push_back(start_front(2));
  workers_.push_back(start_worker(1, /*metrics=*/true));
  ASSERT_GT(front_metrics_port_, 0);
  workers_.push_back(start_worker(2));
  ASSERT_GT(worker_metrics_port_, 0);
  auto gateway = start_gateway_to_fronts();
  auto fleet = start_fleet(12, 120, 14, gateway_udp_port_);
  ASSERT_TRUE(wait_pg_stored(24, 30s));
  // Front 2's config: its admin socket; the device was seen through front 1 only.
  const std::string device = pg("SELECT device FROM readings ORDER BY device LIMIT 1");
  auto r = run(armored({"command", "send", "--config", (dir() / "front-2.toml").string(), "--device", device,
                        "--wait", "20", "set_interval", "seconds=60"}),
               40s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << slurp(dir() / "front2-2.err");
  EXPECT_NE(r.out.find("acknowledged"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(pg("SELECT status FROM commands ORDER BY id DESC LIMIT 1"), "acknowledged");
  // Two more through front 2: sequence numbers from the database, each once.
  for (const char* seconds : {"seconds=90", "seconds=120"}) {
    auto again = run(armored({"command", "send", "--config", (dir() / "front-2.toml").string(), "--device", device,
                              "--wait", "20", "set_interval", seconds}),
                     40s);
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  }
  EXPECT_EQ(pg_int("SELECT count(*) FROM commands WHERE status = 'acknowledged'"), 3);
  // A fourth, and the front that sent it stops (SIGSTOP) as soon as it has:
  // the answer is stored, and settles the command, by the worker that opens
  // it; the front never hears of it until it runs again, and then does not
  // expire it.
  auto fourth = run(armored({"command", "send", "--config", (dir() / "front-2.toml").string(), "--device", device,
                             "set_interval", "seconds=150"}),
                    40s);
  EXPECT_EQ(fourth.exit_code, 0) << fourth.out << fourth.err;
  fronts_[1]->signal(SIGSTOP);
  const auto settle_until = std::chrono::steady_clock::now() + 30s;
  while (pg_int("SELECT count(*) FROM commands WHERE status = 'acknowledged'") < 4 &&
         std::chrono::steady_clock::now() < settle_until) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(pg("SELECT status FROM commands ORDER BY id DESC LIMIT 1"), "acknowledged")
      << "answered while the front that sent it was stopped";
  fronts_[1]->signal(SIGCONT);
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  ASSERT_TRUE(wait_pg_stored(f.readings, 60s)) << pg_int("SELECT count(*) FROM readings") << " of " << f.readings;
  std::this_thread::sleep_for(1s);
  expect_every_reading_once("none (two fronts, two workers, commands across fronts)", f);
  EXPECT_EQ(pg_int("SELECT count(*) FROM command_replies WHERE device = '" + device + "'"), 4)
      << "each answer stored once, its sequence number accounted for";
  // The worker's metrics: a real page promtool accepts, counting what it stored.
  auto page = run({"curl", "-sf", "http://127.0.0.1:" + std::to_string(worker_metrics_port_) + "/metrics"}, 10s);
  ASSERT_EQ(page.exit_code, 0) << page.err;
  EXPECT_NE(page.out.find("armored_worker_readings_stored_total"), std::string::npos) << page.out;
  std::smatch stored;
  ASSERT_TRUE(std::regex_search(page.out, stored, std::regex("armored_worker_messages_total (\\d+)"))) << page.out;
  EXPECT_GT(std::stoll(stored[1]), 0);
  auto lint = run({"promtool", "check", "metrics"}, 20s, page.out);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  // The front that carried the gateway: what JetStream stored for it.
  auto front_page = run({"curl", "-sf", "http://127.0.0.1:" + std::to_string(front_metrics_port_) + "/metrics"}, 10s);
  ASSERT_EQ(front_page.exit_code, 0) << front_page.err;
  std::smatch published;
  ASSERT_TRUE(std::regex_search(front_page.out, published,
                                std::regex("armored_cloud_jetstream_published_total (\\d+)")))
      << front_page.out;
  EXPECT_GT(std::stoll(published[1]), 0);
  EXPECT_NE(front_page.out.find("armored_cloud_nats_connected 1"), std::string::npos);
  EXPECT_EQ(gateway->stop(), 0);
}

// A backlog the gateway spooled while no front was up leaves in full
// batches (up to 255 readings per PUBLISH). With one message per fetch the
// two workers alternate: the second takes readings whose epoch announcement
// the first is still storing, and must wait for it, not refuse them as of
// an unknown epoch (it once looked into batches of at most 64 messages only).
TEST_F(ScaleOutTest, WorkersDrainingFullBatchesWaitForAnotherWorkersAnnouncements) {
  start_nats(1);
  make_pki(20);
  cluster_extra_ = "fetch_batch = 1\n";
  front_ports_ = {armored::testing::free_tcp_port()};  // nothing listens yet: the gateway spools
  auto gateway = start_gateway_to_fronts();
  auto fleet = start_fleet(20, 600, 6, gateway_udp_port_);  // 20 readings/s per device
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  ASSERT_GT(f.readings, 4 * 255) << "a backlog of several full batches";
  workers_.push_back(start_worker(1));
  workers_.push_back(start_worker(2));
  fronts_.push_back(start_front(1));
  ASSERT_TRUE(wait_pg_stored(f.readings, 90s)) << pg_int("SELECT count(*) FROM readings") << " of " << f.readings;
  std::this_thread::sleep_for(1s);
  expect_every_reading_once("none (backlog drained by two workers, one message per fetch)", f);
  EXPECT_EQ(gateway->stop(), 0);
}

// Whatever reaches the stream (only fronts publish there, but the stream is
// another process's): garbage, a truncated batch, an oversized payload and
// a forged envelope are refused and audited, acknowledged so they never
// come back, nothing of them is stored, and the worker carries on.
TEST_F(ScaleOutTest, WorkerRefusesMalformedOversizedAndForgedMessagesFromTheStream) {
  start_nats(1);
  make_pki(4);
  workers_.push_back(start_worker(1));
  jetstream::Options o;
  o.servers = nats_->urls();
  o.stream = stream_;
  o.replicas = 1;
  auto pub = jetstream::Publisher::connect(o);
  ASSERT_TRUE(pub) << pub.error().message;
  std::mt19937 rng(7);
  auto random_bytes = [&](std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  Bytes truncated_batch{0xC0, 0x05, 0x00, 0x20};  // a batch marker announcing more than follows
  Bytes forged{0x08, 0x01, 0xAA, 0xBB, 0x01};      // an uplink header with an unknown key id
  const Bytes tail = random_bytes(40);
  forged.insert(forged.end(), tail.begin(), tail.end());
  const std::vector<Bytes> hostile{random_bytes(64), truncated_batch, random_bytes(300 * 1024), forged, Bytes{}};
  std::atomic<int> stored{0};
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    std::promise<Status> done;
    auto f = done.get_future();
    ASSERT_TRUE((*pub)->publish("up", "hostile-" + std::to_string(i), {{"Armored-Peer", "gw-evil"}}, hostile[i],
                                [&done](Status st) { done.set_value(std::move(st)); }));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    if (f.get()) ++stored;
  }
  ASSERT_EQ(stored.load(), static_cast<int>(hostile.size()));
  // Refused and audited, one row per message at least.
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until &&
         pg_int("SELECT count(*) FROM security_events WHERE peer = 'gw-evil'") < static_cast<std::int64_t>(hostile.size())) {
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_GE(pg_int("SELECT count(*) FROM security_events WHERE peer = 'gw-evil'"),
            static_cast<std::int64_t>(hostile.size()));
  EXPECT_EQ(pg_int("SELECT count(*) FROM readings"), 0);
  EXPECT_TRUE(workers_[0]->running());
  EXPECT_EQ(workers_[0]->stop(10s), 0) << slurp(dir() / "worker1-1.err");
  // Every one taken once and acknowledged: none delivered again.
  const std::string out = slurp(dir() / "worker1-1.out");
  EXPECT_NE(out.find("stopped: " + std::to_string(hostile.size()) + " messages (0 redelivered), 0 readings stored"),
            std::string::npos)
      << out;
}

// The command subjects between roles are network input too: a front
// refuses each message without a device, naming no identity, oversized,
// empty, truncated or not a reply, counts it by subject and reason, audits
// it, and carries on, also through a flood of them.
TEST_F(ScaleOutTest, FrontRefusesMalformedOversizedAndForgedMessagesOnTheCommandSubjects) {
  start_nats(1);
  make_pki(4);
  fronts_.push_back(start_front(1, /*metrics=*/true));
  ASSERT_GT(front_metrics_port_, 0);
  jetstream::Options o;
  o.servers = nats_->urls();
  o.stream = stream_;
  auto bus = jetstream::Bus::connect(o);
  ASSERT_TRUE(bus) << bus.error().message;
  const std::string down = "armored.commands.down", replies = "armored.commands.replies";
  const Bytes sealed(120, 0x5A), big(5000, 0xd9), garbage{0xde, 0xad, 0xbe, 0xef};
  const Bytes truncated_reply{0xd9, 0xd9, 0xf7, 0xa3, 0x01};  // tag 55799, a map of three, one key
  struct Hostile {
    std::string subject;
    std::vector<jetstream::Header> headers;
    Bytes data;
  };
  const std::vector<Hostile> hostile{
      {down, {}, sealed},                                     // bad_device
      {down, {{"Armored-Device", "../etc/passwd"}}, sealed},  // bad_device
      {down, {{"Armored-Device", "dev-0001"}}, big},          // oversized
      {down, {{"Armored-Device", "dev-0001"}}, {}},           // malformed
      {replies, {}, garbage},                                 // bad_device
      {replies, {{"Armored-Device", "dev-0001"}}, garbage},   // malformed
      {replies, {{"Armored-Device", "dev-0001"}}, truncated_reply},  // malformed
      {replies, {{"Armored-Device", "dev-0001"}}, big},       // oversized
  };
  for (const auto& h : hostile) ASSERT_TRUE((*bus)->publish(h.subject, h.headers, h.data));
  const std::map<std::string, int> expected{
      {"armored.commands.down bad_device", 2},  {"armored.commands.down oversized", 1},
      {"armored.commands.down malformed", 1},   {"armored.commands.replies bad_device", 1},
      {"armored.commands.replies oversized", 1}, {"armored.commands.replies malformed", 2}};
  static const std::regex series(
      "armored_cloud_bus_refused_total\\{reason=\"([a-z_]+)\",subject=\"([a-z.]+)\"\\} (\\d+)");
  std::map<std::string, int> counted;
  std::string page;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until) {
    page = run({"curl", "-sf", "http://127.0.0.1:" + std::to_string(front_metrics_port_) + "/metrics"}, 10s).out;
    counted.clear();
    for (std::sregex_iterator it(page.begin(), page.end(), series), end; it != end; ++it) {
      if (int n = std::stoi((*it)[3]); n > 0) counted[(*it)[2].str() + " " + (*it)[1].str()] = n;
    }
    if (counted == expected) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(counted, expected) << page;
  auto lint = run({"promtool", "check", "metrics"}, 20s, page);
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  // Audited, each naming its subject and what was wrong (the audit trail is
  // written in the background: wait for it).
  const auto audited_until = std::chrono::steady_clock::now() + 10s;
  while (pg_int("SELECT count(*) FROM security_events WHERE peer = 'nats'") < 8 &&
         std::chrono::steady_clock::now() < audited_until) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(pg_int("SELECT count(*) FROM security_events WHERE peer = 'nats' AND reason LIKE 'bus message refused: %'"),
            8);
  EXPECT_EQ(pg_int("SELECT count(*) FROM security_events WHERE peer = 'nats' AND detail = "
                   "'armored.commands.down: 5000 bytes, at most 4096 allowed'"),
            1);
  EXPECT_EQ(pg_int("SELECT count(*) FROM security_events WHERE peer = 'nats' AND detail = "
                   "'armored.commands.replies: no Armored-Device header'"),
            1);
  // A flood: 2,000 more garbage replies. Each is counted; the audit trail
  // stays a few rows, and its summary row accounts for the rest.
  constexpr int kFlood = 2000;
  for (int i = 0; i < kFlood; ++i) {
    ASSERT_TRUE((*bus)->publish(replies, {{"Armored-Device", "dev-0001"}}, garbage));
  }
  const std::string malformed_replies =
      "armored_cloud_bus_refused_total{reason=\"malformed\",subject=\"armored.commands.replies\"} " +
      std::to_string(2 + kFlood);
  const auto flood_until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < flood_until) {
    page = run({"curl", "-sf", "http://127.0.0.1:" + std::to_string(front_metrics_port_) + "/metrics"}, 10s).out;
    if (page.find(malformed_replies) != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_NE(page.find(malformed_replies), std::string::npos) << page;
  // Every refusal is in some row: one each, or "+N more from nats" in the
  // summary written when the 10 s aggregation interval ends.
  const std::string accounted =
      "SELECT coalesce(sum(CASE WHEN detail LIKE '+% more from nats%' THEN split_part(substr(detail, 2), ' ', 1)::bigint"
      " ELSE 1 END), 0) FROM security_events WHERE peer = 'nats'";
  const auto summary_until = std::chrono::steady_clock::now() + 30s;
  while (pg_int(accounted) < 8 + kFlood && std::chrono::steady_clock::now() < summary_until) {
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(pg_int(accounted), 8 + kFlood);
  EXPECT_LE(pg_int("SELECT count(*) FROM security_events WHERE peer = 'nats'"), 8 + 5 + 1)
      << "a flood of refusals is summarised, not a row each";
  EXPECT_TRUE(fronts_[0]->running());
  EXPECT_EQ(fronts_[0]->stop(10s), 0) << slurp(dir() / "front1-1.err");
}

// The fault: two fronts, three workers, a three-node JetStream
// cluster; under load a worker, then the front the gateway uses, then a
// JetStream node are killed with SIGKILL. The gateway moves to the other
// front; the other workers take the dead worker's unacknowledged messages.
TEST_F(ScaleOutTest, KilledWorkerFrontAndJetStreamNodeLoseNothing) {
  start_nats(3);
  make_pki(30);
  fronts_.push_back(start_front(1));
  fronts_.push_back(start_front(2));
  for (int w = 1; w <= 3; ++w) workers_.push_back(start_worker(w));
  auto gateway = start_gateway_to_fronts();
  auto fleet = start_fleet(30, 150, 20, gateway_udp_port_);
  ASSERT_TRUE(wait_pg_stored(1, 30s)) << slurp(dir() / "worker1-3.err");
  std::this_thread::sleep_for(2s);
  workers_[0]->signal(SIGKILL);
  ASSERT_TRUE(workers_[0]->wait(5s).has_value());
  std::this_thread::sleep_for(3s);
  const std::int64_t before_front = pg_int("SELECT count(*) FROM readings");
  fronts_[0]->signal(SIGKILL);
  ASSERT_TRUE(fronts_[0]->wait(5s).has_value());
  std::this_thread::sleep_for(3s);
  nats_->kill(1);
  // Commands still delivered: through the surviving front, with a worker
  // and a JetStream node gone.
  std::this_thread::sleep_for(2s);
  const std::string device = pg("SELECT device FROM readings ORDER BY device LIMIT 1");
  auto cmd = run(armored({"command", "send", "--config", (dir() / "front-2.toml").string(), "--device", device,
                          "--wait", "20", "set_interval", "seconds=60"}),
                 40s);
  EXPECT_EQ(cmd.exit_code, 0) << cmd.out << cmd.err;
  EXPECT_NE(cmd.out.find("acknowledged"), std::string::npos) << cmd.out << cmd.err;
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  ASSERT_TRUE(wait_pg_stored(f.readings, 90s)) << pg_int("SELECT count(*) FROM readings") << " of " << f.readings;
  std::this_thread::sleep_for(1s);
  EXPECT_GT(pg_int("SELECT count(*) FROM readings"), before_front) << "stored after the front died: the gateway moved";
  expect_every_reading_once("worker, front and JetStream node killed (2 fronts, 3 workers, 3 nodes)", f);
  const std::string gw = slurp(dir() / "gateway1.err");
  EXPECT_NE(gw.find("the next attempt goes to localhost:" + std::to_string(front_ports_[1])), std::string::npos)
      << "the gateway went to the second front: " << gw.substr(gw.size() > 3000 ? gw.size() - 3000 : 0);
  EXPECT_EQ(gateway->stop(), 0);
  for (std::size_t w = 1; w < workers_.size(); ++w) {
    EXPECT_EQ(workers_[w]->stop(10s), 0) << slurp(dir() / ("worker" + std::to_string(w + 1) + "-" + std::to_string(w + 3) + ".err"));
  }
  const int front_exit = fronts_[1]->stop(10s);
  std::string front_err, front_out;
  for (int i = 1; i <= starts_; ++i) {
    front_err += slurp(dir() / ("front2-" + std::to_string(i) + ".err"));
    front_out += slurp(dir() / ("front2-" + std::to_string(i) + ".out"));
  }
  EXPECT_EQ(front_exit, 0) << front_err.substr(front_err.size() > 4000 ? front_err.size() - 4000 : 0);
  // The gateway resumed at front 2 with the ticket front 1 issued: the
  // fronts share their ticket keys.
  std::smatch m;
  static const std::regex hs("handshakes (\\d+) full, (\\d+) resumed");
  ASSERT_TRUE(std::regex_search(front_out, m, hs)) << front_out;
  static const std::regex zero_rtt("(\\d+) 0-RTT");
  std::smatch z;
  ASSERT_TRUE(std::regex_search(front_out, z, zero_rtt)) << front_out;
  EXPECT_EQ(std::stoi(m[1]), 0) << "a full handshake at front 2: " << front_out;
  EXPECT_GE(std::stoi(m[2]) + std::stoi(z[1]), 1) << front_out;
}

}  // namespace
}  // namespace armored::pipeline_test
