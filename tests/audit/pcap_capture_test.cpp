// `armored audit pcap` on captures made here with tcpdump on loopback: a
// plaintext mosquitto_pub with credentials to a real Mosquitto, an HTTP
// request with Basic auth, TLS 1.3, TLS 1.0 and a TLS 1.3 offer answered
// with 1.2. Each is classified; the TLS 1.3 one has no plaintext finding.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "live_peers.h"
#include "test_certs.h"

namespace armored::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// tcpdump writing `file` for traffic on `port` until stop().
class Capture {
 public:
  Capture(const TempDir& dir, const std::string& name, int port, const std::string& iface = "lo")
      : file_(dir / (name + ".pcap")), log_(dir / (name + ".tcpdump.log")) {
    Subprocess::Options o;
    o.stderr_path = log_;
    // -Z root: keep writing into the test's private (0700) temp directory.
    proc_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"tcpdump", "-Z", "root", "--immediate-mode", "-i", iface, "-U", "-s", "0", "-w", file_.string(), "tcp port " + std::to_string(port)},
        o);
    for (int i = 0; i < 100 && slurp(log_).find("listening on") == std::string::npos; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    ready_ = slurp(log_).find("listening on") != std::string::npos;
  }
  bool ready() const { return ready_; }
  // Lets the last packets arrive, then SIGINT; tcpdump flushes and exits.
  std::filesystem::path stop() {
    std::this_thread::sleep_for(500ms);
    proc_->signal(SIGINT);
    auto st = proc_->wait(10s);
    EXPECT_TRUE(st.has_value());
    std::error_code ec;
    std::printf("tcpdump: %s (%ju bytes)\n%s", file_.filename().c_str(),
                static_cast<std::uintmax_t>(std::filesystem::file_size(file_, ec)), slurp(log_).c_str());
    return file_;
  }

 private:
  std::filesystem::path file_, log_;
  std::unique_ptr<Subprocess> proc_;
  bool ready_ = false;
};

json audit_pcap(const std::filesystem::path& file, int* exit_code = nullptr) {
  auto r = run({armored_binary().string(), "--json", "audit", "pcap", file.string()});
  if (exit_code) *exit_code = r.exit_code;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  std::printf("audit pcap %s:\n", file.filename().c_str());
  for (const auto& f : j["details"]["flows"]) {
    std::printf("  flow %s -> %s: %s %s\n", f["client"].get<std::string>().c_str(),
                f["server"].get<std::string>().c_str(), f["protocol"].get<std::string>().c_str(),
                f["tls_version"].get<std::string>().c_str());
  }
  for (const auto& f : j["findings"]) {
    std::printf("  [%s] %s  %s | %s\n", f["severity"].get<std::string>().c_str(), f["rule"].get<std::string>().c_str(),
                f["message"].get<std::string>().c_str(), f["evidence"].get<std::string>().c_str());
  }
  return j;
}

std::multiset<std::string> rules_of(const json& j) {
  std::multiset<std::string> out;
  for (const auto& f : j["findings"]) out.insert(f["rule"].get<std::string>());
  return out;
}

std::set<std::string> protocols_of(const json& j) {
  std::set<std::string> out;
  for (const auto& f : j["details"]["flows"]) out.insert(f["protocol"].get<std::string>());
  return out;
}

TEST(AuditPcapCapture, MosquittoPubWithCredentialsInClear) {
  if (getuid() != 0) GTEST_SKIP() << "tcpdump needs root";
  TempDir dir;
  int port = free_tcp_port();
  const std::string user = "sensor-7", pass = std::string("pw-") + "capture-test-only";
  auto broker = start_mosquitto(dir, port, user, pass);
  ASSERT_TRUE(broker);
  Capture cap(dir, "mqtt", port);
  ASSERT_TRUE(cap.ready());
  auto pub = run({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-u", user, "-P", pass, "-t",
                  "plant/line1/temp", "-m", "{\"t\":21.5}", "-q", "1"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  // MQTT 5 carries properties in CONNECT and PUBLISH; the parser skips them.
  auto pub5 = run({"mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", std::to_string(port), "-u", user, "-P",
                   pass, "-t", "plant/line2/temp", "-m", "{\"t\":19.0}", "-D", "publish", "user-property", "k", "v"});
  ASSERT_EQ(pub5.exit_code, 0) << pub5.err;
  auto file = cap.stop();
  int rc = 0;
  auto j = audit_pcap(file, &rc);
  EXPECT_EQ(rc, 1);
  auto rules = rules_of(j);
  EXPECT_EQ(rules.count("pcap-mqtt-credentials"), 2u);
  EXPECT_EQ(rules.count("pcap-mqtt-publish-plaintext"), 2u);
  EXPECT_NE(j.dump().find("MQTT level 5"), std::string::npos);
  EXPECT_NE(j.dump().find("plant/line2/temp"), std::string::npos);
  EXPECT_EQ(protocols_of(j), std::set<std::string>{"mqtt"});
  EXPECT_EQ(j.dump().find(pass), std::string::npos) << "password leaked into the report";
  EXPECT_NE(j.dump().find("first topic 'plant/line1/temp'"), std::string::npos);
  // A capture cut mid-record still yields what it holds, and says so.
  {
    auto cut = dir / "cut.pcap";
    std::filesystem::copy_file(file, cut);
    std::filesystem::resize_file(cut, std::filesystem::file_size(file) - 7);
    auto c = audit_pcap(cut);
    EXPECT_EQ(rules_of(c).count("pcap-mqtt-credentials"), 2u);
    EXPECT_FALSE(c["details"]["read_error"].get<std::string>().empty());
  }
  // The same capture as pcapng (converted by tshark's editcap) reads the same.
  if (have_program("editcap")) {
    auto ng = dir / "mqtt.pcapng";
    ASSERT_EQ(run({"editcap", "-F", "pcapng", file.string(), ng.string()}).exit_code, 0);
    EXPECT_EQ(rules_of(audit_pcap(ng)), rules);
  }
}

TEST(AuditPcapCapture, HttpBasicAuthToATestListener) {
  if (getuid() != 0) GTEST_SKIP() << "tcpdump needs root";
  TempDir dir;
  // A test-owned listener that reads one request and answers 204.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(fd, 4);
  int port = ntohs(addr.sin_port);
  std::thread server([fd] {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    std::string req;
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof(buf));
      if (n <= 0) break;
      req.append(buf, static_cast<std::size_t>(n));
    }
    const char kReply[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    (void)!::write(c, kReply, sizeof(kReply) - 1);
    ::close(c);
  });
  // "any" exercises the Linux cooked link type (SLL/SLL2) as well.
  Capture cap(dir, "http", port, "any");
  ASSERT_TRUE(cap.ready());
  const std::string creds = std::string("gateway:") + "pw-http-test-only";
  RunResult sent;
  if (have_program("curl")) {
    sent = run({"curl", "-s", "-u", creds, "-d", "{\"t\":1}", "http://127.0.0.1:" + std::to_string(port) + "/ingest"});
  } else {
    sent = run({"python3", "-c",
                "import socket,base64,sys\ns=socket.create_connection(('127.0.0.1'," + std::to_string(port) +
                    "))\ns.sendall(b'POST /ingest HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Basic '+base64.b64encode(sys.argv[1].encode())+b'\\r\\nContent-Length: 0\\r\\n\\r\\n')\ns.recv(100)",
                creds});
  }
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  server.join();
  ::close(fd);
  auto file = cap.stop();
  auto j = audit_pcap(file);
  EXPECT_EQ(rules_of(j).count("pcap-http-basic-auth"), 1u);
  EXPECT_TRUE(protocols_of(j).count("http"));
  EXPECT_EQ(j.dump().find("pw-http-test-only"), std::string::npos);
  EXPECT_TRUE(j["details"]["link_type"] == 113 || j["details"]["link_type"] == 276) << j["details"]["link_type"];
}

struct TlsCase {
  std::vector<std::string> server_args;
  std::vector<std::string> client_args;
};

json capture_tls(const TempDir& dir, const std::string& name, const TlsCase& c) {
  CertSpec s;
  s.common_name = "tls.test";
  s.rsa = true;
  auto cert = make_cert(dir.path(), name, s);
  int port = free_tcp_port();
  std::vector<std::string> sargs = {"-cert", cert.cert.string(), "-key", cert.key.string()};
  sargs.insert(sargs.end(), c.server_args.begin(), c.server_args.end());
  auto server = start_s_server(dir, port, sargs);
  EXPECT_TRUE(server);
  Capture cap(dir, name, port);
  EXPECT_TRUE(cap.ready());
  std::vector<std::string> cargs = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port)};
  cargs.insert(cargs.end(), c.client_args.begin(), c.client_args.end());
  auto r = run(cargs, 20s, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return audit_pcap(cap.stop());
}

TEST(AuditPcapCapture, Tls13SessionHasNoPlaintextFinding) {
  if (getuid() != 0) GTEST_SKIP() << "tcpdump needs root";
  TempDir dir;
  int rc = 0;
  auto j = capture_tls(dir, "tls13", {{"-tls1_3"}, {"-tls1_3"}});
  rc = j["findings"].empty() ? 0 : 1;
  EXPECT_EQ(rc, 0) << j["findings"].dump(2);
  ASSERT_EQ(j["details"]["flows"].size(), 1u);
  EXPECT_EQ(j["details"]["flows"][0]["protocol"], "tls");
  EXPECT_EQ(j["details"]["flows"][0]["tls_version"], "TLS 1.3");
  EXPECT_GE(j["details"]["counters"]["tls_client_hellos"], 1);
}

TEST(AuditPcapCapture, Tls13OverIpv6Loopback) {
  if (getuid() != 0) GTEST_SKIP() << "tcpdump needs root";
  TempDir dir;
  CertSpec s;
  s.common_name = "tls.test";
  auto cert = make_cert(dir.path(), "v6", s);
  int port = free_tcp_port();
  Subprocess::Options o;
  o.stdout_path = dir / "s_server.out";
  Subprocess server({"openssl", "s_server", "-accept", "[::1]:" + std::to_string(port), "-6", "-www", "-cert",
                     cert.cert.string(), "-key", cert.key.string(), "-tls1_3"},
                    o);
  // s_server prints ACCEPT once it listens (wait_for_tcp_port knows IPv4 only).
  for (int i = 0; i < 200 && slurp(dir / "s_server.out").find("ACCEPT") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  Capture cap(dir, "v6", port);
  ASSERT_TRUE(cap.ready());
  auto r = run({"openssl", "s_client", "-connect", "[::1]:" + std::to_string(port), "-6"}, 20s, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = audit_pcap(cap.stop());
  EXPECT_TRUE(j["findings"].empty());
  ASSERT_GE(j["details"]["flows"].size(), 1u);
  EXPECT_EQ(j["details"]["flows"][0]["server"], "[::1]:" + std::to_string(port));
  EXPECT_EQ(j["details"]["flows"][0]["tls_version"], "TLS 1.3");
}

TEST(AuditPcapCapture, Tls10ClientHelloAndFallbackFrom13) {
  if (getuid() != 0) GTEST_SKIP() << "tcpdump needs root";
  TempDir dir;
  auto old = capture_tls(dir, "tls10", {{"-cipher", "ALL:@SECLEVEL=0"}, {"-tls1", "-cipher", "ALL:@SECLEVEL=0"}});
  EXPECT_EQ(rules_of(old).count("pcap-tls-old-version"), 1u);
  EXPECT_EQ(old["details"]["flows"][0]["tls_version"], "TLS 1.0");
  auto fallback = capture_tls(dir, "fallback", {{"-tls1_2"}, {}});
  EXPECT_EQ(rules_of(fallback).count("pcap-tls-downgrade"), 1u);
  EXPECT_EQ(rules_of(fallback).count("pcap-tls-old-version"), 0u);
}

TEST(AuditPcapCapture, UnreadableOrForeignFilesAreUsageErrors) {
  TempDir dir;
  auto junk = dir / "junk.pcap";
  std::ofstream(junk) << "not a capture";
  auto r = run({armored_binary().string(), "audit", "pcap", junk.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read capture"), std::string::npos) << r.err;
  EXPECT_EQ(run({armored_binary().string(), "audit", "pcap", (dir / "missing.pcap").string()}).exit_code, 2);
}

}  // namespace
}  // namespace armored::testing
