// `armored audit tls` against our own `armored cloud`: TLS 1.3 only, a
// client certificate required, a chain that verifies to the fleet root, no
// plaintext MQTT beside it. The audit must find nothing to report.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud_peer.h"

namespace armored::testing {
namespace {

using nlohmann::json;

TEST(AuditTlsOnOurCloud, ReportsNoFinding) {
  TempDir dir;
  CloudPeer cloud(dir);
  cloud.make_pki({"gw-1"}, {"dev-1"});
  ASSERT_TRUE(cloud.start());
  const std::string pki = cloud.pki();
  auto r = run({armored_binary().string(), "--json", "audit", "tls", "127.0.0.1:" + std::to_string(cloud.port()),
                "--ca", pki + "/root-ca.crt", "--client-cert", pki + "/gateway/gw-1.crt", "--client-key",
                pki + "/gateway/gw-1.key", "--mqtt", "--fail-on", "info"},
               std::chrono::seconds(120));
  auto report = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << r.out << r.err;
  std::printf("audit tls on armored cloud:\n");
  for (const auto& line : report["summary"]) std::printf("  %s\n", line.get<std::string>().c_str());
  std::string found;
  for (const auto& f : report["findings"]) {
    found += f["severity"].get<std::string>() + " " + f["rule"].get<std::string>() + ": " +
             f["evidence"].get<std::string>() + "\n";
  }
  EXPECT_EQ(found, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cloud.stop(), 0);
}

}  // namespace
}  // namespace armored::testing
