// The operator's view with real processes: cloud, gateway and fleet, a real
// Prometheus scraping both, `armored status`, and the dashboard driven by
// headless Chromium. Screenshots of every view are kept as test artefacts
// (ARMORED_TEST_ARTIFACTS, default test-artifacts/ under the build's test
// directory).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "metrics/scrape.h"
#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::Subprocess;
using nlohmann::json;
namespace fs = std::filesystem;

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

int port_after(const std::string& text, const std::string& before) {
  std::smatch m;
  const std::regex re(before + "(\\d+)");
  return std::regex_search(text, m, re) ? std::stoi(m[1]) : 0;
}

fs::path artefact_dir() {
  const char* env = std::getenv("ARMORED_TEST_ARTIFACTS");
  fs::path d = (env && *env) ? fs::path(env) : fs::current_path() / "test-artifacts";
  d /= "dashboard";
  fs::create_directories(d);
  return d;
}

// Words and keys that would mean a reading's value reached the operator's
// view (readings are health data; docs/operations.md, "Dashboard").
void expect_no_reading_values(const std::string& text, const std::string& where) {
  for (const char* word : {"heart", "spo2", "SpO2", "bpm", "dbpm", "payload", "plaintext"}) {
    EXPECT_EQ(text.find(word), std::string::npos) << where << " mentions '" << word << "'";
  }
}

class OperatorViewTest : public PipelineTest {
 protected:
  // Prometheus's own /federate: every armored_* sample it has scraped, with
  // its job label, in the text format `armored status` already parses.
  std::vector<metrics::Sample> federate() {
    auto s = metrics::scrape("127.0.0.1", static_cast<std::uint16_t>(prometheus_port_), 5s, {},
                             "/federate?match%5B%5D=%7B__name__%3D~%22armored_.%2A%22%7D");
    return s ? *s : std::vector<metrics::Sample>{};
  }
  double scraped(const std::vector<metrics::Sample>& s, const std::string& name, const std::string& job) {
    double total = 0;
    bool found = false;
    for (const auto& x : s) {
      auto j = x.labels.find("job");
      if (x.name == name && j != x.labels.end() && j->second == job) {
        total += x.value;
        found = true;
      }
    }
    return found ? total : -1;
  }
  // Polls Prometheus until `name` of `job` reaches `want` (false on timeout).
  bool wait_scraped(const std::string& name, const std::string& job, double want, std::chrono::seconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (scraped(federate(), name, job) == want) return true;
      std::this_thread::sleep_for(300ms);
    }
    return false;
  }
  // curl's status code for a dashboard path with this Authorization header.
  std::string http_status(const std::string& path, const std::string& auth) {
    std::vector<std::string> a = {"curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"};
    if (!auth.empty()) a.insert(a.end(), {"-H", "Authorization: " + auth});
    a.push_back("https://127.0.0.1:" + std::to_string(dashboard_port_) + path);
    return run(a, 20s).out;
  }
  std::string api(const std::string& path) {
    auto r = run({"curl", "-sk", "--max-time", "10", "-H", "Authorization: Bearer " + token_,
                  "https://127.0.0.1:" + std::to_string(dashboard_port_) + path},
                 20s);
    return r.out;
  }
  // Chromium, headless, on one view: its DOM after the page's script ran,
  // or (screenshot) a PNG of it.
  armored::testing::RunResult chromium(const std::string& view, const std::string& mode) {
    const std::string url =
        "https://127.0.0.1:" + std::to_string(dashboard_port_) + "/#view=" + view + "&token=" + token_;
    return run({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + (dir() / ("chromium-" + view)).string(),
                "--ignore-certificate-errors", "--window-size=1280,1000", "--virtual-time-budget=6000", mode, url},
               90s);
  }

  int prometheus_port_ = 0;
  int dashboard_port_ = 0;
  std::string token_;
};

TEST_F(OperatorViewTest, PrometheusScrapesBothChromiumRendersEveryViewAndNoReadingValueShows) {
  ASSERT_TRUE(armored::testing::have_program("prometheus")) << "scripts/install-deps.sh installs it";
  ASSERT_TRUE(armored::testing::have_program("chromium")) << "scripts/install-deps.sh installs it";
  ASSERT_TRUE(armored::testing::have_program("curl"));
  make_pki(12);
  cloud_extra_config_ = "[metrics]\nport = 0\n[dashboard]\nport = 0\n";
  gateway_extra_config_ = "[metrics]\nport = 0\n";
  auto cloud = start_cloud();
  const std::string cloud_out = wait_for_text(dir() / "cloud1.out", "dashboard on");
  const int cloud_metrics = port_after(cloud_out, "metrics on http://127\\.0\\.0\\.1:");
  dashboard_port_ = port_after(cloud_out, "dashboard on https://127\\.0\\.0\\.1:");
  ASSERT_GT(cloud_metrics, 0) << cloud_out;
  ASSERT_GT(dashboard_port_, 0) << cloud_out;
  // The token is in a file only the cloud's user can read, never on stdout.
  const fs::path token_file = dir() / "dashboard.token";
  token_ = slurp(token_file);
  while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
  ASSERT_EQ(token_.size(), 64u);
  EXPECT_EQ(fs::status(token_file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(cloud_out.find(token_), std::string::npos);

  auto gateway = start_gateway();
  const std::string gw_out = wait_for_text(dir() / "gateway1.out", "metrics on");
  const int gateway_metrics = port_after(gw_out, "metrics on http://127\\.0\\.0\\.1:");
  ASSERT_GT(gateway_metrics, 0) << gw_out;

  // A real Prometheus scraping both every second.
  prometheus_port_ = armored::testing::free_tcp_port();
  write_file(dir() / "prometheus.yml",
                               "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                               "  - job_name: cloud\n    static_configs:\n      - targets: ['127.0.0.1:" +
                                   std::to_string(cloud_metrics) +
                                   "']\n  - job_name: gateway\n    static_configs:\n      - targets: ['127.0.0.1:" +
                                   std::to_string(gateway_metrics) + "']\n");
  Subprocess::Options po;
  po.cwd = dir();
  po.stdout_path = dir() / "prometheus.out";
  po.stderr_path = dir() / "prometheus.err";
  Subprocess prometheus({"prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=prometheus-data",
                         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
                        po);
  ASSERT_TRUE(armored::testing::wait_for_tcp_port(prometheus_port_, 30s)) << slurp(dir() / "prometheus.err");
  // Before any traffic, Prometheus sees both at zero.
  ASSERT_TRUE(wait_scraped("armored_cloud_readings_stored_total", "cloud", 0, 30s)) << slurp(dir() / "prometheus.err");
  ASSERT_TRUE(wait_scraped("armored_gateway_acknowledged_total", "gateway", 0, 30s));

  // Traffic, a command, a stranger's failed handshake.
  auto fleet = start_fleet(12, 30, 20, gateway_udp_port_);
  ASSERT_TRUE(wait_for_stored(12, 60s)) << slurp(dir() / "fleet.err");
  const std::string device = sql("SELECT device FROM readings ORDER BY device LIMIT 1");
  auto cmd = run(armored({"--json", "command", "send", "--device", device, "--config", (dir() / "cloud.toml").string(),
                          "--wait", "20", "set_interval", "seconds=30"}),
                 60s);
  EXPECT_EQ(cmd.exit_code, 0) << cmd.out << cmd.err;
  auto stranger = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(cloud_port_), "-tls1_3"}, 20s);
  EXPECT_NE(stranger.exit_code, -1);
  auto f = finish_fleet(*fleet);
  ASSERT_EQ(f.exit_code, 0);
  ASSERT_TRUE(wait_for_stored(f.readings));

  // The counters moved with the traffic, as Prometheus scraped them.
  EXPECT_TRUE(wait_scraped("armored_cloud_readings_stored_total", "cloud", static_cast<double>(f.readings), 30s));
  // The gateway forwards readings, epoch announcements and command replies:
  // everything it spooled, acknowledged.
  EXPECT_TRUE(wait_scraped("armored_gateway_spool_records", "gateway", 0, 30s));
  {
    const auto s = federate();
    EXPECT_GE(scraped(s, "armored_cloud_handshakes_total", "cloud"), 1);
    EXPECT_GE(scraped(s, "armored_cloud_handshake_failures_total", "cloud"), 1);
    EXPECT_GE(scraped(s, "armored_cloud_commands_total", "cloud"), 2);  // sent and acknowledged
    EXPECT_GE(scraped(s, "armored_cloud_commit_duration_seconds_count", "cloud"), 1);
    EXPECT_EQ(scraped(s, "armored_cloud_seal_to_stored_seconds_count", "cloud"), static_cast<double>(f.readings));
    EXPECT_EQ(scraped(s, "armored_gateway_spool_records", "gateway"), 0);
    EXPECT_GE(scraped(s, "armored_gateway_spooled_total", "gateway"), static_cast<double>(f.readings));
    EXPECT_EQ(scraped(s, "armored_gateway_acknowledged_total", "gateway"),
              scraped(s, "armored_gateway_spooled_total", "gateway"));
    EXPECT_GT(scraped(s, "armored_cloud_certificate_expiry_seconds", "cloud"), 86400);
  }
  // promtool agrees with the pages it scraped, and no metric carries a value.
  for (int port : {cloud_metrics, gateway_metrics}) {
    auto page = run({"curl", "-s", "--max-time", "10", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}, 20s);
    ASSERT_EQ(page.exit_code, 0);
    expect_no_reading_values(page.out, "/metrics on " + std::to_string(port));
    auto check = run({"promtool", "check", "metrics"}, 30s, page.out);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }

  // `armored status`, for people and for scripts.
  auto st = run(armored({"status", "--metrics", "127.0.0.1:" + std::to_string(cloud_metrics)}), 30s);
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("readings   " + std::to_string(f.readings) + " stored"), std::string::npos) << st.out;
  auto stj = run(armored({"--json", "status", "--metrics", "127.0.0.1:" + std::to_string(gateway_metrics)}), 30s);
  EXPECT_EQ(stj.exit_code, 0) << stj.err;
  const json sj = json::parse(stj.out, nullptr, false);
  ASSERT_TRUE(sj.is_object()) << stj.out;
  EXPECT_EQ(sj["role"], "gateway");
  EXPECT_GE(sj["metrics"]["armored_gateway_acknowledged_total"].get<double>(), static_cast<double>(f.readings));
  auto watch = run(armored({"status", "--metrics", "127.0.0.1:" + std::to_string(gateway_metrics), "--watch", "0.5",
                            "--count", "2"}),
                   30s);
  EXPECT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_NE(watch.out.find("acknowledged by the cloud (0/s)"), std::string::npos) << watch.out;  // a rate, once idle
  // A config whose [metrics] port is 0 names no endpoint to read: bad usage.
  auto zero = run(armored({"status", "--config", (dir() / "cloud.toml").string()}), 30s);
  EXPECT_EQ(zero.exit_code, 2) << zero.out << zero.err;
  EXPECT_NE(zero.err.find("port = 0"), std::string::npos) << zero.err;
  auto down = run(armored({"status", "--metrics", "127.0.0.1:" + std::to_string(armored::testing::free_tcp_port())}), 30s);
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;

  // The dashboard refuses whoever lacks the token, and audits it.
  EXPECT_EQ(http_status("/api/overview", ""), "401");
  EXPECT_EQ(http_status("/api/overview", "Bearer " + std::string(64, '0')), "401");
  EXPECT_EQ(http_status("/api/devices?page=1", "Bearer wrong"), "401");
  EXPECT_EQ(http_status("/api/overview", "Bearer " + token_), "200");
  for (const std::string path : {"/api/overview", "/api/devices?page=1&per_page=50", "/api/gaps?limit=50",
                                 "/api/events?limit=50", "/api/commands?limit=50", "/api/series"}) {
    const std::string body = api(path);
    ASSERT_TRUE(json::parse(body, nullptr, false).is_object()) << path << ": " << body.substr(0, 300);
    expect_no_reading_values(body, path);
  }
  const json devices = json::parse(api("/api/devices?page=1&per_page=5"));
  EXPECT_EQ(devices["total"], 12);
  EXPECT_EQ(devices["devices"].size(), 5u);

  // Every view in a real browser, with data; a screenshot of each.
  const fs::path shots = artefact_dir();
  const std::map<std::string, std::string> expect_text = {
      {"overview", "Readings in and out per second"},
      {"connections", "gw1"},
      {"devices", device},
      {"gaps", "Sequence gaps"},
      {"security", "operator_auth_failed"},
      {"certificates", "Revocations"},
      {"commands", "set_interval"},
  };
  for (const auto& [view, text] : expect_text) {
    auto dom = chromium(view, "--dump-dom");
    ASSERT_EQ(dom.exit_code, 0) << view << ": " << dom.err.substr(0, 2000);
    EXPECT_NE(dom.out.find("data-view=\"" + view + "\""), std::string::npos) << view << ": " << dom.out.substr(0, 2000);
    EXPECT_NE(dom.out.find("data-ready=\"1\""), std::string::npos) << view << ": " << dom.out.substr(0, 3000);
    EXPECT_NE(dom.out.find(text), std::string::npos) << view << " lacks '" << text << "': " << dom.out.substr(0, 3000);
    EXPECT_EQ(dom.out.find("role=\"status\">error:"), std::string::npos) << view;  // the page's own error line
    expect_no_reading_values(dom.out, "the " + view + " view");
    const fs::path png = shots / (view + ".png");
    fs::remove(png);
    auto shot = chromium(view, "--screenshot=" + png.string());
    EXPECT_EQ(shot.exit_code, 0) << shot.err.substr(0, 2000);
    EXPECT_GT(fs::exists(png) ? fs::file_size(png) : 0, 10000u) << png;
  }
  // Without the token the page asks for one and shows nothing else.
  auto login = run({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--user-data-dir=" + (dir() / "chromium-login").string(), "--ignore-certificate-errors",
                    "--virtual-time-budget=3000", "--dump-dom",
                    "https://127.0.0.1:" + std::to_string(dashboard_port_) + "/#view=devices"},
                   60s);
  EXPECT_NE(login.out.find("data-view=\"login\""), std::string::npos) << login.out.substr(0, 2000);
  EXPECT_EQ(login.out.find(device), std::string::npos);

  prometheus.stop();
  EXPECT_EQ(gateway->stop(), 0);
  auto h = stop_cloud(cloud);
  EXPECT_GE(h.failed, 1);
}

}  // namespace
}  // namespace armored::pipeline_test
