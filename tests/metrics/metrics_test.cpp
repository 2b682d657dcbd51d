// The metrics endpoint, checked from outside: a plain HTTP GET over TCP, and
// Prometheus's own `promtool check metrics` on what it serves.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <regex>

#include "metrics/metrics.h"
#include "support/process.h"

namespace armored::metrics {
namespace {

using armored::testing::run;

// GET `path` from 127.0.0.1:port; the whole response, headers included.
std::string http_get(std::uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

TEST(MetricsEndpoint, ServesTheOwnersSnapshotAtEachScrapeAndPassesPromtool) {
  std::atomic<int> collected{0};
  auto live = std::make_shared<prometheus::Registry>();
  auto& latency = prometheus::BuildHistogram()
                      .Name("armored_test_latency_seconds")
                      .Help("A latency observed live.")
                      .Register(*live)
                      .Add({}, latency_buckets());
  latency.Observe(0.003);
  latency.Observe(7);
  auto ep = Endpoint::start(
      "127.0.0.1:0",
      [&] {
        Families f;
        const int n = ++collected;
        add_counter(f, "armored_test_readings_total", "Readings seen.", 10.0 * n);
        add_counter(f, "armored_test_rejected_total", "Readings refused, by reason.", 2, {{"reason", "bad_tag"}});
        add_counter(f, "armored_test_rejected_total", "Readings refused, by reason.", 1, {{"reason", "replayed"}});
        add_gauge(f, "armored_test_connections", "Connections now.", 3);
        add_process_families(f);
        return f;
      },
      live);
  ASSERT_TRUE(ep) << ep.error().message;
  ASSERT_NE((*ep)->port(), 0);

  const std::string first = http_get((*ep)->port(), "/metrics");
  ASSERT_NE(first.find("200 OK"), std::string::npos) << first;
  const std::string body = body_of(first);
  EXPECT_NE(body.find("armored_test_readings_total 10"), std::string::npos) << body;
  EXPECT_NE(body.find("armored_test_rejected_total{reason=\"bad_tag\"} 2"), std::string::npos) << body;
  EXPECT_NE(body.find("armored_test_rejected_total{reason=\"replayed\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("armored_test_latency_seconds_count 2"), std::string::npos) << body;
  EXPECT_NE(body.find("armored_test_latency_seconds_bucket{le=\"0.005\"} 1"), std::string::npos) << body;
  std::smatch rss;
  ASSERT_TRUE(std::regex_search(body, rss, std::regex("process_resident_memory_bytes ([0-9.e+]+)"))) << body;
  EXPECT_GT(std::stod(rss[1]), 1e6);
  EXPECT_NE(body.find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_NE(body.find("process_open_fds"), std::string::npos);

  // A second scrape asks the owner again: values are never cached.
  EXPECT_NE(body_of(http_get((*ep)->port(), "/metrics")).find("armored_test_readings_total 20"), std::string::npos);
  EXPECT_EQ((*ep)->scrapes(), 2u);

  // Prometheus's own linter: names, units, _total on counters, help text.
  auto check = run({"promtool", "check", "metrics"}, std::chrono::seconds(30), body);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << "promtool has remarks";
}

TEST(MetricsEndpoint, APortInUseIsAClearError) {
  auto first = Endpoint::start("127.0.0.1:0", [] { return Families{}; }, nullptr);
  ASSERT_TRUE(first) << first.error().message;
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Endpoint::start(taken, [] { return Families{}; }, nullptr);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("cannot listen on " + taken), std::string::npos) << second.error().message;
}

TEST(MetricsEndpoint, OtherPathsAreNotFound) {
  auto ep = Endpoint::start("127.0.0.1:0", [] { return Families{}; }, nullptr);
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_NE(http_get((*ep)->port(), "/").find("404"), std::string::npos);
  EXPECT_NE(http_get((*ep)->port(), "/metrics/../etc/passwd").find("404"), std::string::npos);
  EXPECT_EQ((*ep)->scrapes(), 0u);
}

}  // namespace
}  // namespace armored::metrics
