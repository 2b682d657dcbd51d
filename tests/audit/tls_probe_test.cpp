// `armored audit tls` against real endpoints on 127.0.0.1: openssl s_server
// configured badly and well, Mosquitto for --mqtt, and (where Debian's
// testssl.sh is installed) a comparison of protocol findings with testssl.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "audit/tls_probe.h"
#include "live_peers.h"
#include "test_certs.h"

namespace armored::testing {
namespace {

using nlohmann::json;

json audit_tls(const std::vector<std::string>& args, int* exit_code = nullptr) {
  std::vector<std::string> argv = {armored_binary().string(), "--json", "audit", "tls"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, std::chrono::seconds(120));
  if (exit_code) *exit_code = r.exit_code;
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  auto j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  std::printf("audit tls %s:\n", args.front().c_str());
  for (const auto& f : j["findings"]) {
    std::printf("  [%s] %s  %s\n", f["severity"].get<std::string>().c_str(), f["rule"].get<std::string>().c_str(),
                f["message"].get<std::string>().c_str());
  }
  return j;
}

std::set<std::string> rules_of(const json& report) {
  std::set<std::string> out;
  for (const auto& f : report["findings"]) out.insert(f["rule"].get<std::string>());
  return out;
}

bool any_finding_starts_with(const json& report, const std::string& prefix) {
  for (const auto& f : report["findings"]) {
    if (f["rule"].get<std::string>().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST(AuditTls, BadlyConfiguredServerReportsEachFlaw) {
  TempDir dir;
  // Self-signed RSA certificate so RSA key exchange is possible; TLS 1.0-1.2
  // allowed with every suite (security level 0); no client certificate asked.
  CertSpec spec;
  spec.common_name = "bad.test";
  spec.dns_names = {"bad.test"};
  spec.rsa = true;
  auto cert = make_cert(dir.path(), "bad", spec);
  int port = free_tcp_port();
  auto server = start_s_server(dir, port,
                               {"-cert", cert.cert.string(), "-key", cert.key.string(), "-cipher", "ALL:@SECLEVEL=0"});
  ASSERT_TRUE(server);
  int rc = 0;
  auto j = audit_tls({"127.0.0.1:" + std::to_string(port), "--sni", "bad.test"}, &rc);
  EXPECT_EQ(rc, 1);
  auto rules = rules_of(j);
  for (const char* expected : {"tls-protocol-obsolete", "tls-cipher-cbc", "tls-cipher-rsa-kex", "tls-cipher-non-aead",
                               "tls-cipher-no-ecdhe", "tls-cert-self-signed", "tls-cert-untrusted",
                               "tls-no-client-auth"}) {
    EXPECT_TRUE(rules.count(expected)) << expected;
  }
  int obsolete = 0;
  for (const auto& f : j["findings"]) obsolete += f["rule"] == "tls-protocol-obsolete";
  EXPECT_EQ(obsolete, 2);  // TLS 1.0 and TLS 1.1
  EXPECT_EQ(j["details"]["versions"]["TLS 1.0"], true);
  EXPECT_EQ(j["details"]["versions"]["TLS 1.2"], true);
  EXPECT_GT(j["details"]["tls12_suites"].size(), 10u);
  EXPECT_EQ(j["details"]["certificate"]["self_signed"], true);
  EXPECT_EQ(j["details"]["client_certificate"]["requested"], false);
  EXPECT_FALSE(rules.count("tls-cert-expired"));
  EXPECT_FALSE(rules.count("tls-cert-hostname-mismatch"));
  // The probe only read: the server saw no application data.
  EXPECT_EQ(slurp(dir / ("s_server-" + std::to_string(port) + ".out")).find("GET "), std::string::npos);
}

TEST(AuditTls, ExpiredAndMisnamedCertificatesAreReported) {
  TempDir dir;
  CertSpec ca_spec;
  ca_spec.common_name = "Audit Test CA";
  ca_spec.is_ca = true;
  auto ca = make_cert(dir.path(), "ca", ca_spec);
  CertSpec leaf;
  leaf.common_name = "old.test";
  leaf.dns_names = {"old.test"};
  leaf.not_before_days = -60;
  leaf.not_after_days = -2;
  auto expired = make_cert(dir.path(), "expired", leaf, &ca);
  int port = free_tcp_port();
  auto server = start_s_server(dir, port, {"-cert", expired.cert.string(), "-key", expired.key.string(), "-tls1_3"});
  ASSERT_TRUE(server);
  auto j = audit_tls({"127.0.0.1:" + std::to_string(port), "--sni", "new.test", "--ca", ca.cert.string()});
  auto rules = rules_of(j);
  EXPECT_TRUE(rules.count("tls-cert-expired"));
  EXPECT_TRUE(rules.count("tls-cert-hostname-mismatch"));
  EXPECT_TRUE(rules.count("tls-cert-untrusted"));  // X509_verify_cert: certificate has expired
  EXPECT_NE(j["details"]["certificate"]["verify_error"].get<std::string>().find("expired"), std::string::npos);
  EXPECT_FALSE(rules.count("tls-cert-self-signed"));
  EXPECT_FALSE(rules.count("tls-protocol-obsolete"));
}

struct GoodServer {
  TempDir dir;
  CertFiles ca, server, client;
  int port = 0;
  std::unique_ptr<Subprocess> proc;
  // `verify_flag` -Verify requires a client certificate, -verify only asks for one.
  explicit GoodServer(const std::string& verify_flag = "-Verify") {
    CertSpec ca_spec;
    ca_spec.common_name = "Audit Test CA";
    ca_spec.is_ca = true;
    ca = make_cert(dir.path(), "ca", ca_spec);
    CertSpec s;
    s.common_name = "broker.test";
    s.dns_names = {"broker.test", "localhost"};
    s.ip_addresses = {"127.0.0.1"};
    server = make_cert(dir.path(), "server", s, &ca);
    CertSpec c;
    c.common_name = "device-0001";
    client = make_cert(dir.path(), "client", c, &ca);
    port = free_tcp_port();
    // TLS 1.3 only, client certificate required.
    proc = start_s_server(dir, port, {"-cert", server.cert.string(), "-key", server.key.string(), "-tls1_3",
                                      verify_flag, "1", "-CAfile", ca.cert.string()});
  }
};

TEST(AuditTls, WellConfiguredServerHasNoProtocolOrCipherFindings) {
  GoodServer g;
  ASSERT_TRUE(g.proc);
  auto j = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string()});
  EXPECT_FALSE(any_finding_starts_with(j, "tls-protocol"));
  EXPECT_FALSE(any_finding_starts_with(j, "tls-cipher"));
  EXPECT_FALSE(any_finding_starts_with(j, "tls13"));
  EXPECT_FALSE(any_finding_starts_with(j, "tls-cert"));
  EXPECT_FALSE(any_finding_starts_with(j, "tls-no-client-auth"));
  EXPECT_TRUE(j["findings"].empty()) << j["findings"].dump(2);
  EXPECT_EQ(j["details"]["versions"]["TLS 1.2"], false);
  EXPECT_EQ(j["details"]["versions"]["TLS 1.3"], true);
  EXPECT_EQ(j["details"]["client_certificate"]["requested"], true);
  EXPECT_EQ(j["details"]["client_certificate"]["required"], true);
  EXPECT_EQ(j["details"]["certificate"]["verified"], true);
  EXPECT_EQ(j["details"]["certificate"]["name_match"], true);
  EXPECT_GE(j["details"]["tls13_suites"].size(), 2u);
  EXPECT_TRUE(j["details"]["tls13_choice_when_client_prefers_chacha20"].is_string());
  // Matching by IP address when no name is given.
  auto by_ip = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--ca", g.ca.cert.string()});
  EXPECT_EQ(by_ip["details"]["certificate"]["name_match"], true);
}

TEST(AuditTls, ClientCertificateIsPresentedAndSessionsResume) {
  GoodServer g;
  ASSERT_TRUE(g.proc);
  auto j = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string(),
                      "--client-cert", g.client.cert.string(), "--client-key", g.client.key.string()});
  EXPECT_TRUE(j["findings"].empty()) << j["findings"].dump(2);
  EXPECT_EQ(j["details"]["client_certificate"]["presented"], true);
  // Presenting a certificate proves nothing about the requirement: the probe
  // asks again without one.
  EXPECT_EQ(j["details"]["client_certificate"]["required"], true);
  EXPECT_EQ(j["details"]["client_certificate"]["refused"], false);
  EXPECT_EQ(j["details"]["resumption"]["ticket"], true);
  EXPECT_EQ(j["details"]["resumption"]["resumed"], true);
  EXPECT_EQ(j["details"]["resumption"]["max_early_data"], 0);
}

TEST(AuditTls, OptionalClientCertificateIsFoundEvenWhenOneIsPresented) {
  GoodServer g("-verify");
  ASSERT_TRUE(g.proc);
  auto j = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string(),
                      "--client-cert", g.client.cert.string(), "--client-key", g.client.key.string()});
  EXPECT_EQ(rules_of(j), std::set<std::string>{"tls-client-auth-optional"}) << j["findings"].dump(2);
  EXPECT_EQ(j["details"]["client_certificate"]["required"], false);
}

TEST(AuditTls, EarlyDataIsReported) {
  TempDir dir;
  CertSpec s;
  s.common_name = "zero.test";
  s.dns_names = {"zero.test"};
  auto cert = make_cert(dir.path(), "zero", s);
  int port = free_tcp_port();
  // -early_data does not combine with -www; the interactive s_server quits
  // when stdin ends, so stdin is a FIFO this test holds open.
  auto fifo = dir / "stdin.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int hold = ::open(fifo.c_str(), O_RDWR);
  ASSERT_GE(hold, 0);
  Subprocess::Options o;
  o.stdin_path = fifo;
  o.stdout_path = dir / "s_server.out";
  Subprocess server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                     cert.cert.string(), "-key", cert.key.string(), "-tls1_3", "-early_data"},
                    o);
  ASSERT_TRUE(wait_for_tcp_port(port));
  auto j = audit_tls({"127.0.0.1:" + std::to_string(port), "--sni", "zero.test"});
  EXPECT_TRUE(rules_of(j).count("tls-early-data")) << j["details"]["resumption"].dump();
  EXPECT_GT(j["details"]["resumption"]["max_early_data"], 0);
  server.stop();
  ::close(hold);
}

TEST(AuditTls, PlaintextMqttAnonymousAndPasswordBrokers) {
  GoodServer g;
  ASSERT_TRUE(g.proc);
  int anon_port = free_tcp_port();
  auto anon = start_mosquitto(g.dir, anon_port);
  ASSERT_TRUE(anon);
  auto j = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string(),
                      "--mqtt", "--mqtt-port", std::to_string(anon_port)});
  ASSERT_TRUE(rules_of(j).count("mqtt-plaintext-anonymous"));
  EXPECT_EQ(j["details"]["mqtt"]["connack_code"], 0);
  for (const auto& f : j["findings"]) {
    if (f["rule"] == "mqtt-plaintext-anonymous") {
      EXPECT_EQ(f["location"]["endpoint"], "127.0.0.1:" + std::to_string(anon_port));
      EXPECT_EQ(f["severity"], "critical");
    }
  }
  int auth_port = free_tcp_port();
  auto auth = start_mosquitto(g.dir, auth_port, "gw", std::string("pw-") + "for-tests");
  ASSERT_TRUE(auth);
  auto k = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string(),
                      "--mqtt", "--mqtt-port", std::to_string(auth_port)});
  EXPECT_TRUE(rules_of(k).count("mqtt-plaintext-listener"));
  EXPECT_FALSE(rules_of(k).count("mqtt-plaintext-anonymous"));
  EXPECT_EQ(k["details"]["mqtt"]["connack_code"], 5);  // not authorised
  // Nothing on the port: reported as such, no finding.
  auto none = audit_tls({"127.0.0.1:" + std::to_string(g.port), "--sni", "broker.test", "--ca", g.ca.cert.string(),
                         "--mqtt", "--mqtt-port", std::to_string(free_tcp_port())});
  EXPECT_EQ(none["details"]["mqtt"]["reachable"], false);
  EXPECT_TRUE(none["findings"].empty());
}

TEST(AuditTls, UnreachableEndpointAndBadUsage) {
  auto r = run({armored_binary().string(), "audit", "tls", "127.0.0.1:" + std::to_string(free_tcp_port()),
                "--timeout-ms", "500"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_EQ(run({armored_binary().string(), "audit", "tls", "no-port"}).exit_code, 2);
  EXPECT_EQ(run({armored_binary().string(), "audit", "tls", "h:99999"}).exit_code, 2);
  EXPECT_EQ(run({armored_binary().string(), "audit", "tls", "h:1", "--client-cert", "x"}).exit_code, 2);
  auto missing_ca = run({armored_binary().string(), "audit", "tls", "127.0.0.1:1", "--ca", "/nonexistent/ca.pem"});
  EXPECT_EQ(missing_ca.exit_code, 2);
  EXPECT_NE(missing_ca.err.find("no such file"), std::string::npos) << missing_ca.err;
}

TEST(AuditTls, ProbeTimesOutOnASilentServer) {
  // A listener that accepts and never answers: every step ends by its timeout.
  TempDir dir;
  int port = free_tcp_port();
  Subprocess silent({"python3", "-c",
                     "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                     "s.bind(('127.0.0.1'," + std::to_string(port) + "))\ns.listen(64)\nc=[]\n"
                     "while True:\n  c.append(s.accept())\n"});
  ASSERT_TRUE(wait_for_tcp_port(port));
  auto start = std::chrono::steady_clock::now();
  auto r = run({armored_binary().string(), "--json", "audit", "tls", "127.0.0.1:" + std::to_string(port),
                "--timeout-ms", "300"},
               std::chrono::seconds(60));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(30));
  auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_EQ(j["details"]["versions"]["TLS 1.3"], false);
}

// testssl.sh's verdicts on the same endpoints agree with ours: protocol
// versions, and its cipher categories against our suite findings.
void compare_with_testssl(const std::vector<std::string>& server_args, const std::string& label) {
  TempDir dir;
  CertSpec spec;
  spec.common_name = "bad.test";
  spec.rsa = true;
  auto cert = make_cert(dir.path(), "srv", spec);
  int port = free_tcp_port();
  std::vector<std::string> args = {"-cert", cert.cert.string(), "-key", cert.key.string()};
  args.insert(args.end(), server_args.begin(), server_args.end());
  auto server = start_s_server(dir, port, args);
  ASSERT_TRUE(server);
  auto ours = audit_tls({"127.0.0.1:" + std::to_string(port)});
  auto out = dir / "testssl.json";
  auto t = run({"testssl", "--protocols", "--std", "--quiet", "--color", "0", "--warnings", "off", "--jsonfile",
                out.string(), "127.0.0.1:" + std::to_string(port)},
               std::chrono::seconds(300));
  ASSERT_TRUE(t.exit_code >= 0) << t.out << t.err;
  auto theirs = json::parse(slurp(out), nullptr, false);
  ASSERT_FALSE(theirs.is_discarded()) << slurp(out);
  std::map<std::string, std::string> verdict;
  for (const auto& e : theirs) verdict[e.value("id", "")] = e.value("finding", "");
  auto offered = [&](const std::string& id) { return verdict[id].rfind("offered", 0) == 0; };
  std::printf("testssl comparison, %s:\n", label.c_str());
  const std::map<std::string, std::string> ids = {
      {"TLS1", "TLS 1.0"}, {"TLS1_1", "TLS 1.1"}, {"TLS1_2", "TLS 1.2"}, {"TLS1_3", "TLS 1.3"}};
  for (const auto& [id, name] : ids) {
    ASSERT_TRUE(verdict.count(id)) << id << " missing in testssl output";
    bool ours_accepted = ours["details"]["versions"][name].get<bool>();
    std::printf("  %s: testssl '%s', armored %s\n", name.c_str(), verdict[id].c_str(),
                ours_accepted ? "accepted" : "not accepted");
    EXPECT_EQ(offered(id), ours_accepted) << name << ": testssl says '" << verdict[id] << "'";
  }
  auto rules = rules_of(ours);
  bool theirs_weak = offered("cipherlist_NULL") || offered("cipherlist_aNULL") || offered("cipherlist_EXPORT") ||
                     offered("cipherlist_LOW") || offered("cipherlist_3DES_IDEA");
  bool theirs_cbc = offered("cipherlist_AVERAGE");  // 128/256-bit CBC suites
  bool ours_aead = false;
  for (const auto& s : ours["details"]["tls12_suites"]) {
    std::string n = s.get<std::string>();
    ours_aead |= n.find("GCM") != std::string::npos || n.find("CHACHA20") != std::string::npos ||
                 n.find("CCM") != std::string::npos;
  }
  ours_aead |= !ours["details"]["tls13_suites"].empty();
  std::printf("  weak suites: testssl %d, armored %d; CBC: testssl %d, armored %d; AEAD: testssl %d, armored %d\n",
              theirs_weak, static_cast<int>(rules.count("tls-cipher-weak")), theirs_cbc,
              static_cast<int>(rules.count("tls-cipher-cbc")), offered("cipherlist_STRONG"), ours_aead);
  EXPECT_EQ(theirs_weak, rules.count("tls-cipher-weak") == 1);
  EXPECT_EQ(theirs_cbc, rules.count("tls-cipher-cbc") == 1);
  EXPECT_EQ(offered("cipherlist_STRONG"), ours_aead);
}

TEST(AuditTls, FindingsAgreeWithTestsslOnABadEndpoint) {
  if (!have_program("testssl")) GTEST_SKIP() << "testssl.sh not installed (Debian package testssl.sh)";
  compare_with_testssl({"-cipher", "ALL:@SECLEVEL=0", "-no_tls1_3"}, "TLS 1.0-1.2, ALL suites");
}

TEST(AuditTls, FindingsAgreeWithTestsslOnAStrictEndpoint) {
  if (!have_program("testssl")) GTEST_SKIP() << "testssl.sh not installed (Debian package testssl.sh)";
  compare_with_testssl({"-tls1_2", "-cipher", "ECDHE+AESGCM"}, "TLS 1.2 only, ECDHE+AESGCM");
}

}  // namespace
}  // namespace armored::testing
