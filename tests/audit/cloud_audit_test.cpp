// `armored audit tls` against our own `armored cloud`: TLS 1.3 only, a
// client certificate required, a chain that verifies to the fleet root, no
// plaintext MQTT beside it. The audit must find nothing at low or above;
// resumption and 0-RTT (replay-safe in the cloud: E3 envelopes only) are info.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "cloud_peer.h"

namespace armored::testing {
namespace {

using nlohmann::json;

json audit_cloud(const CloudPeer& cloud, const std::vector<std::string>& extra, int& exit_code) {
  const std::string pki = cloud.pki();
  std::vector<std::string> argv = {armored_binary().string(), "--json", "audit", "tls",
                                   "127.0.0.1:" + std::to_string(cloud.port()), "--ca", pki + "/root-ca.crt",
                                   "--client-cert", pki + "/gateway/gw-1.crt", "--client-key",
                                   pki + "/gateway/gw-1.key", "--mqtt", "--fail-on", "low"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run(argv, std::chrono::seconds(120));
  exit_code = r.exit_code;
  auto report = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(report.is_discarded()) << r.out << r.err;
  std::printf("audit tls on armored cloud%s:\n", extra.empty() ? "" : " with --client-chain");
  for (const auto& line : report["summary"]) std::printf("  %s\n", line.get<std::string>().c_str());
  for (const auto& f : report["findings"]) {
    std::printf("  [%s] %s: %s\n", f["severity"].get<std::string>().c_str(), f["rule"].get<std::string>().c_str(),
                f["evidence"].get<std::string>().c_str());
  }
  return report;
}

std::string findings_above_info(const json& report) {
  std::string out;
  for (const auto& f : report["findings"]) {
    if (f["severity"] == "info") continue;
    out += f["severity"].get<std::string>() + " " + f["rule"].get<std::string>() + ": " +
           f["evidence"].get<std::string>() + "\n";
  }
  return out;
}

TEST(AuditTlsOnOurCloud, ReportsNothingAboveInfo) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {"dev-1"});
  ASSERT_TRUE(cloud.start());
  int code = -1;
  auto report = audit_cloud(cloud, {"--client-chain", cloud.pki() + "/issuing-ca.crt"}, code);
  EXPECT_EQ(findings_above_info(report), "");
  EXPECT_EQ(code, 0);
  const auto& d = report["details"];
  EXPECT_EQ(d["versions"].dump(), R"({"TLS 1.0":false,"TLS 1.1":false,"TLS 1.2":false,"TLS 1.3":true})") << d.dump(1);
  EXPECT_EQ(d["client_certificate"]["required"], true);
  EXPECT_EQ(d["client_certificate"]["refused"], false);
  EXPECT_EQ(d["certificate"]["verified"], true);
  EXPECT_EQ(d["resumption"]["resumed"], true) << d["resumption"];
  EXPECT_EQ(d["resumption"]["max_early_data"], 16384) << d["resumption"];
  std::set<std::string> info;
  for (const auto& f : report["findings"]) info.insert(f["rule"].get<std::string>());
  EXPECT_EQ(info, std::set<std::string>{"tls-early-data"});
  EXPECT_EQ(cloud.stop(), 0);
}

// A leaf from `armored pki` holds no intermediate: the cloud completes its
// chain with the issuing CA it knows, so the probe gets in without
// --client-chain.
TEST(AuditTlsOnOurCloud, ALeafOnlyProbeIsAccepted) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {});
  ASSERT_TRUE(cloud.start());
  int code = -1;
  auto report = audit_cloud(cloud, {}, code);
  EXPECT_EQ(findings_above_info(report), "");
  EXPECT_EQ(report["details"]["client_certificate"]["refused"], false) << report["details"].dump(1);
  EXPECT_EQ(cloud.stop(), 0);
}

// A probe certificate of another CA is refused, and the audit says so
// instead of reporting "no resumption" as a fact.
TEST(AuditTlsOnOurCloud, SaysWhenTheCloudRefusedTheProbesCertificate) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {});
  ASSERT_TRUE(cloud.start());
  // gw-1's files replaced by a gateway of another PKI (the cloud read its
  // own files at start; it never reads gw-1's).
  const std::string other = (dir / "other-pki").string();
  cloud.armored({"pki", "init", "--dir", other, "--name", "Other CA"});
  cloud.armored({"pki", "issue", "gateway", "--id", "gw-1", "--dir", other});
  for (const char* ext : {".crt", ".key"}) {
    std::filesystem::copy_file(other + "/gateway/gw-1" + ext, cloud.pki() + "/gateway/gw-1" + ext,
                               std::filesystem::copy_options::overwrite_existing);
  }
  int code = -1;
  auto report = audit_cloud(cloud, {}, code);
  EXPECT_EQ(findings_above_info(report), "");
  EXPECT_EQ(report["details"]["client_certificate"]["refused"], true);
  EXPECT_EQ(report["details"]["client_certificate"]["alert"], "unknown CA");
  bool said = false;
  for (const auto& line : report["summary"]) said |= line.get<std::string>().find("--client-chain") != std::string::npos;
  EXPECT_TRUE(said) << report["summary"];
  EXPECT_EQ(cloud.stop(), 0);
}

}  // namespace
}  // namespace armored::testing
