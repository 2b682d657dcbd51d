// The dashboard's HTTPS listener with real peers (curl, openssl s_client and
// raw sockets): TLS 1.3 with the server's certificate and no client
// certificate asked for, the token on /api, and its limits: connections,
// handshake time, idle time and oversized requests.
#include "dashboard/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/process.h"
#include "tls/test_pki.h"

namespace armored::dashboard {
namespace {

using namespace std::chrono_literals;
using armored::testing::run;

class OneDeviceSource : public Source {
 public:
  nlohmann::json overview() override { return {{"node", {{"backend", "sqlite"}}}}; }
  Expected<nlohmann::json> devices(const DevicePageRequest&) override {
    return nlohmann::json{{"total", 1}, {"devices", nlohmann::json::array({{{"identity", "patient-0001"}}})}};
  }
  Expected<nlohmann::json> gaps(std::size_t) override { return nlohmann::json{{"gaps", nlohmann::json::array()}}; }
  Expected<nlohmann::json> events(std::size_t) override { return nlohmann::json{{"events", nlohmann::json::array()}}; }
  Expected<nlohmann::json> commands(std::size_t) override {
    return nlohmann::json{{"commands", nlohmann::json::array()}};
  }
  std::map<std::string, double> rate_counters() override { return {}; }
  void record_auth_failure(std::string_view, std::string_view) override { ++auth_failures; }
  std::atomic<int> auth_failures{0};
};

const std::string kToken(64, 'b');

// A TCP connection to 127.0.0.1:port; true once the peer has closed it
// (read returns 0 or fails) within `within`.
bool closed_by_peer(int fd, std::chrono::milliseconds within) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(within.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((within.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char b[64];
  for (;;) {
    const ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

struct DashboardServerTest : ::testing::Test {
  armored::testing::TempDir tmp;
  OneDeviceSource source;
  SystemClock clock;
  std::unique_ptr<Server> server;
  std::string ca;

  void start(std::size_t max_connections = 64, std::chrono::seconds handshake = 10s, std::chrono::seconds idle = 60s) {
    auto root = armored::testing::TestAuthority::root("Dashboard Test CA");
    armored::testing::LeafSpec leaf;
    leaf.common_name = "cloud";
    leaf.dns = {"localhost"};
    leaf.ips = {"127.0.0.1"};
    const auto issued = root->issue(leaf);
    issued.write(tmp.path(), "cloud");
    ca = (tmp / "ca.crt").string();
    std::ofstream(ca) << root->cert_pem();
    ServerOptions o;
    o.listen.enabled = true;
    o.listen.port = 0;
    o.tls.role = tls::Role::kServer;
    o.tls.ca_file = ca;
    o.tls.cert_chain = tmp / "cloud.crt";
    o.tls.key_file = tmp / "cloud.key";
    o.tls.request_client_certificate = false;
    o.tls.max_early_data = 0;
    o.dashboard.token = kToken;
    o.max_connections = max_connections;
    o.handshake_timeout = handshake;
    o.idle_timeout = idle;
    auto s = Server::start(std::move(o), source, clock);
    ASSERT_TRUE(s) << s.error().message;
    server = std::move(*s);
  }
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(server->port()) + path; }
  // curl, verifying the server against the test CA; returns "<status> <body>".
  std::string curl(const std::string& path, const std::string& token, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"curl", "-s", "--cacert", ca, "--max-time", "10", "-w", " %{http_code}"};
    a.insert(a.end(), extra.begin(), extra.end());
    if (!token.empty()) a.insert(a.end(), {"-H", "Authorization: Bearer " + token});
    a.push_back(url(path));
    auto r = run(a, 20s);
    return r.exit_code == 0 ? r.out : "curl exit " + std::to_string(r.exit_code);
  }
};

TEST_F(DashboardServerTest, ServesTls13WithItsCertificateAndAsksNoClientCertificate) {
  if (!armored::testing::have_program("curl")) GTEST_FAIL() << "curl is installed by scripts/install-deps.sh";
  start();
  const std::string page = curl("/", "");
  EXPECT_NE(page.find("<script src=\"/app.js\"></script>"), std::string::npos) << page.substr(0, 300);
  EXPECT_EQ(page.substr(page.size() - 3), "200");
  // What s_client sees (-msg lists each handshake message): TLS 1.3, the
  // server's certificate verified, and no CertificateRequest among them.
  auto s = run({"openssl", "s_client", "-msg", "-connect", "127.0.0.1:" + std::to_string(server->port()), "-CAfile",
                ca, "-verify_return_error"},
               20s, "");
  EXPECT_NE(s.out.find("New, TLSv1.3"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("Verify return code: 0 (ok)"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("EncryptedExtensions"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("CertificateRequest"), std::string::npos) << "a CertificateRequest was sent:\n" << s.out;
  // TLS 1.2 is refused, as everywhere else.
  EXPECT_EQ(curl("/", "", {"--tls-max", "1.2"}).rfind("curl exit", 0), 0u);
}

TEST_F(DashboardServerTest, ApiNeedsTheTokenAndRefusalsAreCounted) {
  start();
  const std::string none = curl("/api/devices?page=1", "");
  EXPECT_EQ(none.substr(none.size() - 3), "401");
  const std::string wrong = curl("/api/overview", std::string(64, 'c'));
  EXPECT_EQ(wrong.substr(wrong.size() - 3), "401");
  const std::string ok = curl("/api/devices?page=1", kToken);
  EXPECT_EQ(ok.substr(ok.size() - 3), "200");
  EXPECT_NE(ok.find("patient-0001"), std::string::npos);
  EXPECT_EQ(server->counters().unauthorized.load(), 2u);
  EXPECT_EQ(source.auth_failures.load(), 2);
}

TEST_F(DashboardServerTest, OversizedRequestIsRefusedWith431AndClosed) {
  start();
  const std::string big = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(20000, 'x') + "\r\n\r\n";
  auto s = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server->port()), "-CAfile", ca,
                "-quiet", "-ign_eof"},
               20s, big);
  EXPECT_NE(s.out.find("HTTP/1.1 431"), std::string::npos) << s.out.substr(0, 500) << s.err.substr(0, 500);
  EXPECT_GE(server->counters().refused_requests[static_cast<std::size_t>(http::Refusal::kHeadersTooLarge)].load(), 1u);
}

TEST_F(DashboardServerTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  start(/*max_connections=*/2);
  const int a = connect_to(server->port());
  const int b = connect_to(server->port());
  std::this_thread::sleep_for(200ms);  // both accepted
  const int c = connect_to(server->port());
  EXPECT_TRUE(closed_by_peer(c, 3000ms));
  EXPECT_EQ(server->counters().refused_connections.load(), 1u);
  ::close(a);
  ::close(b);
  ::close(c);
}

TEST_F(DashboardServerTest, SilentConnectionIsClosedAfterTheHandshakeTimeout) {
  start(64, /*handshake=*/1s, /*idle=*/60s);
  const int fd = connect_to(server->port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_by_peer(fd, 5000ms));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 800ms);
  EXPECT_LT(waited, 4000ms);
  EXPECT_GE(server->counters().handshake_failures.load(), 1u);
  ::close(fd);
}

}  // namespace
}  // namespace armored::dashboard
