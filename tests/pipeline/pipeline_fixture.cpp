#include "pipeline_fixture.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

namespace armored::pipeline_test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::Subprocess;

namespace {
void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::trunc);
  f << text;
}
std::int64_t to_int(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (const std::exception&) {
    return -1;
  }
}
}  // namespace

std::vector<std::string> PipelineTest::armored(std::vector<std::string> args) const {
  args.insert(args.begin(), armored::testing::armored_binary().string());
  return args;
}

void PipelineTest::make_pki(int devices, const std::vector<std::string>& gateways) {
  const std::string pki = (dir() / "pki").string();
  auto step = [&](std::vector<std::string> a) {
    auto r = run(armored(std::move(a)), 120s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  step({"pki", "init", "--dir", pki, "--name", "Pipeline Test CA"});
  step({"pki", "issue", "cloud", "--id", "cloud", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", pki});
  for (const auto& g : gateways) step({"pki", "issue", "gateway", "--id", g, "--dir", pki});
  step({"pki", "fleet", "--count", std::to_string(devices), "--prefix", "wearable", "--dir", pki});
  step({"enroll", "--pki", pki, "--e3", (dir() / "e3").string()});
}

void PipelineTest::write_cloud_config() {
  write_text(dir() / "cloud.toml", "[listen]\naddress = \"127.0.0.1\"\nport = " + std::to_string(cloud_port_) + "\n" +
                                       cloud_listen_extra_ + "[tls]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/cloud/cloud.crt\"\n"
                                       "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/cloud/cloud.key\"\n"
                                       "crl = \"pki/crl.pem\"\n" + cloud_tls_extra_ + "[e3]\ndir = \"e3\"\npki_dir = \"pki\"\n"
                                       "state_file = \"cloud.e3state\"\n" + storage_toml_ +
                                       "[status]\ninterval_s = " + std::to_string(status_interval_s_) + "\n" + cloud_extra_config_);
}

Process PipelineTest::start_cloud() {
  write_cloud_config();
  const auto n = std::to_string(++cloud_starts_);
  Subprocess::Options o;
  o.cwd = dir();
  o.stdout_path = dir() / ("cloud" + n + ".out");
  o.stderr_path = dir() / ("cloud" + n + ".err");
  auto p = std::make_unique<Subprocess>(armored({"cloud", "--config", "cloud.toml"}), o);
  auto out = wait_for_text(o.stdout_path, "listening on");
  std::smatch m;
  static const std::regex port_re("listening on 127\\.0\\.0\\.1:(\\d+)");
  EXPECT_TRUE(std::regex_search(out, m, port_re)) << out << slurp(o.stderr_path);
  if (!m.empty()) cloud_port_ = std::stoi(m[1]);
  return p;
}

Process PipelineTest::start_gateway(const std::string& id) {
  const std::string cfg = "gateway-" + id + ".toml";
  write_text(dir() / cfg,
             "id = \"" + id + "\"\n[udp]\naddress = \"127.0.0.1\"\nport = " + std::to_string(gateway_udp_port_) +
                 "\n[cloud]\nhost = \"localhost\"\nport = " +
                 std::to_string(gateway_upstream_port_ != 0 ? gateway_upstream_port_ : cloud_port_) +
                 "\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/gateway/" + id +
                 ".crt\"\nintermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/gateway/" + id +
                 ".key\"\nticket_dir = \"tickets-" + id + "\"\n" + gateway_cloud_toml_ + "[spool]\ndir = \"spool-" + id + "\"\n" +
                 gateway_spool_toml_ + "[backoff]\ninitial_ms = 200\nmax_ms = 4000\n[status]\ninterval_s = " + std::to_string(status_interval_s_) + "\n" +
                 (gateway_forward_toml_.empty() ? "" : "[forward]\n" + gateway_forward_toml_) + gateway_extra_config_);
  const auto n = std::to_string(++gateway_starts_);
  Subprocess::Options o;
  o.cwd = dir();
  o.stdout_path = dir() / ("gateway" + n + ".out");
  o.stderr_path = dir() / ("gateway" + n + ".err");
  auto p = std::make_unique<Subprocess>(armored({"gateway", "--config", cfg}), o);
  auto out = wait_for_text(o.stdout_path, "listening on udp");
  std::smatch m;
  static const std::regex port_re("udp 127\\.0\\.0\\.1:(\\d+)");
  EXPECT_TRUE(std::regex_search(out, m, port_re)) << out << slurp(o.stderr_path);
  if (!m.empty()) gateway_udp_port_ = std::stoi(m[1]);
  return p;
}

Process PipelineTest::start_fleet(int devices, double speedup, double seconds, int udp_port, const std::string& tag) {
  Subprocess::Options o;
  o.cwd = dir();
  o.stdout_path = dir() / (tag + ".json");
  o.stderr_path = dir() / (tag + ".err");
  std::vector<std::string> args = {"--json", "fleet", "--devices", std::to_string(devices), "--interval", "30s",
                                   "--speedup", std::to_string(speedup), "--duration", std::to_string(seconds) + "s",
                                   "--gateway", "127.0.0.1:" + std::to_string(udp_port), "--pki", "pki", "--e3",
                                   "e3", "--state", "device-state"};
  args.insert(args.end(), extra_fleet_args_.begin(), extra_fleet_args_.end());
  return std::make_unique<Subprocess>(armored(std::move(args)), o);
}

FleetRun PipelineTest::finish_fleet(Subprocess& fleet, const std::string& tag, std::chrono::seconds timeout) {
  FleetRun r;
  auto code = fleet.wait(timeout);
  r.exit_code = code ? *code : -1;
  auto text = slurp(dir() / (tag + ".json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    ADD_FAILURE() << "fleet printed no JSON: " << text << slurp(dir() / (tag + ".err"));
    return r;
  }
  r.readings = j.value("readings", std::int64_t{-1});
  r.acknowledged = j.value("acknowledged", std::int64_t{-1});
  r.unacknowledged = j.value("unacknowledged", std::int64_t{-1});
  r.dropped = j.value("dropped", std::int64_t{-1});
  r.readings_acknowledged = j.value("readings_acknowledged", std::int64_t{-1});
  r.sealer = j.value("sealer", std::string());
  return r;
}

GapReport PipelineTest::gap_report() const {
  GapReport g;
  auto r = run(armored({"--json", "report", "gaps", "--db", db().string()}), 60s);
  g.exit_code = r.exit_code;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    ADD_FAILURE() << "report gaps printed no JSON: " << r.out << r.err;
    return g;
  }
  g.gaps = j.value("gaps", std::int64_t{-1});
  g.missing = j.value("missing", std::int64_t{-1});
  g.stored = j.value("readings_stored", std::int64_t{-1});
  return g;
}

void PipelineTest::expect_fault_row(const std::string& fault, const FleetRun& f, bool recovered_by_itself) {
  const std::int64_t stored = sql_int("SELECT count(*) FROM readings");
  const std::int64_t distinct = sql_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings)");
  const std::int64_t lost = f.readings - distinct;
  const std::int64_t duplicated = stored - distinct;
  std::cout << "[ fault    ] " << fault << " | sent " << f.readings << " | stored " << stored << " | lost " << lost
            << " | duplicated " << duplicated << " | recovered without a manual step "
            << (recovered_by_itself ? "yes" : "no") << std::endl;
  EXPECT_EQ(lost, 0) << fault;
  EXPECT_EQ(duplicated, 0) << fault;
  EXPECT_EQ(f.readings_acknowledged, distinct) << "the fleet's count of readings the gateway answered";
  EXPECT_TRUE(recovered_by_itself) << fault;
  auto gaps = gap_report();
  EXPECT_EQ(gaps.exit_code, 0) << "report gaps";
  EXPECT_EQ(gaps.gaps, 0);
  EXPECT_EQ(gaps.stored, stored);
}

std::string PipelineTest::sql(const std::string& query) const {
  auto r = run({"sqlite3", "-cmd", ".timeout 5000", db().string(), query}, 30s);
  EXPECT_EQ(r.exit_code, 0) << query << ": " << r.err;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

std::int64_t PipelineTest::sql_int(const std::string& query) const { return to_int(sql(query)); }

bool PipelineTest::wait_for_stored(std::int64_t count, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(db()) && sql_int("SELECT count(*) FROM readings") >= count) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

void PipelineTest::expect_exactly_once(std::int64_t sealed) {
  ASSERT_GT(sealed, 0);
  std::cout << "[ figures  ] sealed " << sealed << ", stored " << sql("SELECT count(*) FROM readings") << " from "
            << sql("SELECT count(DISTINCT device) FROM readings") << " devices, audit rows "
            << sql("SELECT count(*) FROM security_events") << std::endl;
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), sealed);
  EXPECT_EQ(sql_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings)"), sealed)
      << "duplicates in storage";
  // Per device and epoch, the stored sequence numbers form one run without a gap.
  EXPECT_EQ(sql("SELECT device || '/' || epoch || ': ' || count(*) || ' stored, seq ' || min(seq) || '..' || "
                "max(seq) FROM readings GROUP BY device, epoch HAVING count(DISTINCT seq) <> max(seq) - min(seq) + 1"),
            "")
      << "gaps in the stored sequence numbers";
}

void PipelineTest::expect_only_duplicates_audited() {
  std::cout << "[ figures  ] audit: " << sql("SELECT reason || ' ' || count(*) FROM security_events GROUP BY reason")
            << std::endl;
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind <> 'connected' AND "
                    "(kind <> 'rejected_envelope' OR "
                    "(reason NOT LIKE 'replayed%' AND reason <> 'redelivered'))"),
            0)
      << sql("SELECT kind || ': ' || reason FROM security_events");
}

Handshakes PipelineTest::stop_cloud(Process& cloud) {
  Handshakes h;
  int code = cloud->stop(10s);
  EXPECT_EQ(code, 0);
  auto out = slurp(dir() / ("cloud" + std::to_string(cloud_starts_) + ".out"));
  static const std::regex re("handshakes (\\d+) full, (\\d+) resumed, (\\d+) 0-RTT, (\\d+) failed");
  std::smatch m;
  if (!std::regex_search(out, m, re)) {
    ADD_FAILURE() << "no stop line: " << out;
    return h;
  }
  h.full = std::stoll(m[1]);
  h.resumed = std::stoll(m[2]);
  h.zero_rtt = std::stoll(m[3]);
  h.failed = std::stoll(m[4]);
  std::cout << "[ figures  ] cloud handshakes " << h.full << " full / " << h.resumed << " resumed / " << h.zero_rtt
            << " 0-RTT / " << h.failed << " failed" << std::endl;
  return h;
}

std::string PipelineTest::wait_for_text(const fs::path& file, const std::string& needle,
                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = slurp(file);
    if (text.find(needle) != std::string::npos) return text;
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

}  // namespace armored::pipeline_test
