// The documented sample configs load: every option they list exists.

#include <gtest/gtest.h>

#include <sstream>

#include "cloud/config.h"
#include "gateway/config.h"
#include "support/process.h"

namespace armored {
namespace {

TEST(SampleConfig, CloudTomlLoadsWithEveryOption) {
  auto text = testing::slurp(testing::source_path("config/cloud.toml"));
  ASSERT_FALSE(text.empty());
  auto c = cloud::parse_cloud_config(text, "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->port, 8883);
  EXPECT_EQ(c->tls.ca_file, "/etc/armored/pki/root-ca.crt");
  EXPECT_EQ(c->tls.max_early_data, 16384u);
  EXPECT_EQ(c->tls.ticket_key_file, "/etc/armored/armored-cloud.tickets");
  EXPECT_EQ(c->crl_check_interval, std::chrono::seconds(5));
}

TEST(SampleConfig, TicketKeyFileDefaultsNextToTheConfigAndEmptyMeansMemoryOnly) {
  auto text = testing::slurp(testing::source_path("config/cloud.toml"));
  auto without = text;
  without.replace(without.find("ticket_key_file = \"armored-cloud.tickets\""), 41, "");
  auto c = cloud::parse_cloud_config(without, "/srv/cloud/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->tls.ticket_key_file, "/srv/cloud/armored-cloud.tickets");
  auto off = text;
  off.replace(off.find("ticket_key_file = \"armored-cloud.tickets\""), 41, "ticket_key_file = \"\"");
  c = cloud::parse_cloud_config(off, "/srv/cloud/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->tls.ticket_key_file.empty());
  auto bad = text;
  bad.replace(bad.find("crl_check_interval_s = 5"), 24, "crl_check_interval_s = -1");
  EXPECT_FALSE(cloud::parse_cloud_config(bad, "c.toml"));
}

// The scaled cloud's role samples, and the [cluster] lines of cloud.toml
// uncommented as a user would.
TEST(SampleConfig, ClusterRoleSamplesLoad) {
  auto front = cloud::parse_cloud_config(testing::slurp(testing::source_path("config/cluster/front.toml")),
                                         "/etc/armored/front.toml");
  ASSERT_TRUE(front) << front.error().message;
  EXPECT_EQ(front->cluster.role, cloud::CloudRole::kFront);
  EXPECT_EQ(front->cluster.nats.servers.size(), 3u);
  EXPECT_EQ(front->cluster.nats.replicas, 3);
  auto worker = cloud::parse_cloud_config(testing::slurp(testing::source_path("config/cluster/worker.toml")),
                                          "/etc/armored/worker.toml");
  ASSERT_TRUE(worker) << worker.error().message;
  EXPECT_EQ(worker->cluster.role, cloud::CloudRole::kWorker);
  EXPECT_EQ(worker->cluster.state_key_file, "/etc/armored/e3-state.key");
  EXPECT_EQ(worker->cluster.fetch_batch, 128);

  std::string text = testing::slurp(testing::source_path("config/cloud.toml"));
  const auto at = text.find("# [cluster]\n");
  ASSERT_NE(at, std::string::npos);
  std::string section = text.substr(at);
  // Uncomment "# key = value" lines (not the prose).
  std::string out;
  std::istringstream in(section);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# [cluster]", 0) == 0 || (line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos &&
                                              line.find(' ', 2) == line.find(" = "))) {
      line.erase(0, 2);
    }
    out += line + "\n";
  }
  text = text.substr(0, at) + out;
  auto as_single = cloud::parse_cloud_config(text, "/srv/c.toml");
  ASSERT_TRUE(as_single) << as_single.error().message;
  EXPECT_EQ(as_single->cluster.role, cloud::CloudRole::kSingle);
  EXPECT_EQ(as_single->cluster.nats.max_bytes, std::int64_t{1024} << 20);
  EXPECT_EQ(as_single->cluster.nats.ack_wait, std::chrono::seconds(30));
  // A role needs PostgreSQL: the sample cloud.toml is SQLite.
  text.replace(text.find("role = \"single\""), 15, "role = \"worker\"");
  auto worker_on_sqlite = cloud::parse_cloud_config(text, "/srv/c.toml");
  ASSERT_FALSE(worker_on_sqlite);
  EXPECT_NE(worker_on_sqlite.error().message.find("needs [storage] backend = \"postgresql\""), std::string::npos);
}

TEST(SampleConfig, GatewayTomlLoadsWithEveryOption) {
  auto text = testing::slurp(testing::source_path("config/gateway.toml"));
  ASSERT_FALSE(text.empty());
  auto c = gateway::parse_gateway_config(text, "/etc/armored/gateway.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->udp_port, 5683);
  EXPECT_EQ(c->spool_dir, "/etc/armored/spool");
}

// [metrics] and [dashboard] are off in the samples; their documented lines,
// uncommented as a user would, turn them on at the documented defaults.
TEST(SampleConfig, MetricsAndDashboardSectionsLoadWhenUncommented) {
  auto uncomment = [](std::string text) {
    for (const char* section : {"[metrics]", "[dashboard]"}) {
      const auto at = text.find(section);
      if (at == std::string::npos) continue;
      for (const char* key : {"# port = ", "# address = ", "# allow_remote = ", "# token_file = "}) {
        const auto end = text.find("\n[", at + 1);
        const auto k = text.find(key, at);
        if (k != std::string::npos && k < end) text.erase(k, 2);
      }
    }
    return text;
  };
  auto c = cloud::parse_cloud_config(uncomment(testing::slurp(testing::source_path("config/cloud.toml"))), "c.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->metrics.enabled);
  EXPECT_EQ(c->metrics.endpoint(), "127.0.0.1:9464");
  auto g = gateway::parse_gateway_config(uncomment(testing::slurp(testing::source_path("config/gateway.toml"))),
                                         "g.toml");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_TRUE(g->metrics.enabled);
  EXPECT_EQ(g->metrics.endpoint(), "127.0.0.1:9465");
  EXPECT_TRUE(c->dashboard.enabled);
  EXPECT_EQ(c->dashboard.endpoint(), "127.0.0.1:8443");
  EXPECT_EQ(c->dashboard_token_file, std::filesystem::path("./dashboard.token"));
  auto as_shipped = cloud::parse_cloud_config(testing::slurp(testing::source_path("config/cloud.toml")), "/srv/c.toml");
  ASSERT_TRUE(as_shipped);
  EXPECT_FALSE(as_shipped->metrics.enabled);
  EXPECT_FALSE(as_shipped->dashboard.enabled);
  EXPECT_EQ(as_shipped->dashboard_token_file, as_shipped->sqlite_path.parent_path() / "dashboard.token");
}

// The reliability options: documented defaults load, bad values are refused
// with the key named, and nothing else is assumed.
// forward.confirm: "puback" by default; "receipt" needs the cloud's
// certificate to verify receipts under, and says so.
TEST(SampleConfig, GatewayReceiptModeNeedsItsSigner) {
  const auto gw = testing::slurp(testing::source_path("config/gateway.toml"));
  auto g = gateway::parse_gateway_config(gw, "/etc/armored/gateway.toml");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->confirm, gateway::GatewayConfig::Confirm::kPuback);
  EXPECT_EQ(g->receipt_timeout, std::chrono::seconds(60));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = gw;
    auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return gateway::parse_gateway_config(t, "/etc/armored/gateway.toml");
  };
  auto no_signer = with("confirm = \"puback\"", "confirm = \"receipt\"");
  ASSERT_FALSE(no_signer);
  EXPECT_NE(no_signer.error().message.find("receipt_signer"), std::string::npos) << no_signer.error().message;
  std::string receipt_mode = gw;
  receipt_mode.replace(receipt_mode.find("confirm = \"puback\""), std::string_view("confirm = \"puback\"").size(), "confirm = \"receipt\"");
  receipt_mode.replace(receipt_mode.find("# receipt_signer"), 16, "receipt_signer");
  auto ok = gateway::parse_gateway_config(receipt_mode, "/etc/armored/gateway.toml");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->confirm, gateway::GatewayConfig::Confirm::kReceipt);
  EXPECT_EQ(ok->receipt_signer, "/etc/armored/pki/cloud/cloud.crt");
  auto typo = with("confirm = \"puback\"", "confirm = \"broker\"");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("confirm"), std::string::npos) << typo.error().message;
  EXPECT_FALSE(with("receipt_timeout_s = 60", "receipt_timeout_s = 0"));
}

TEST(SampleConfig, SpoolDamagePolicyAndDatabaseCheckBoundAreChecked) {
  const auto gw = testing::slurp(testing::source_path("config/gateway.toml"));
  auto g = gateway::parse_gateway_config(gw, "/etc/armored/gateway.toml");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->spool_on_damage, spool::OnCorruption::kQuarantine);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = gw;
    auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return gateway::parse_gateway_config(t, "g.toml");
  };
  auto refuse = with("on_damage = \"quarantine\"", "on_damage = \"refuse\"");
  ASSERT_TRUE(refuse) << refuse.error().message;
  EXPECT_EQ(refuse->spool_on_damage, spool::OnCorruption::kFail);
  auto bogus = with("on_damage = \"quarantine\"", "on_damage = \"ignore\"");
  ASSERT_FALSE(bogus);
  EXPECT_NE(bogus.error().message.find("on_damage"), std::string::npos) << bogus.error().message;
  EXPECT_FALSE(with("on_damage = \"quarantine\"", "on_damage = 1"));
}

// spool.mirror: none by default; the documented line loads; the spool dir
// itself or a directory inside it is refused with the key named.
TEST(SampleConfig, SpoolMirrorIsOptionalAndNeverInsideTheSpool) {
  const auto gw = testing::slurp(testing::source_path("config/gateway.toml"));
  auto g = gateway::parse_gateway_config(gw, "/etc/armored/gateway.toml");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_FALSE(g->spool_mirror);
  auto with = [&](const std::string& to) {
    std::string t = gw;
    const std::string from = "# mirror = \"/var/lib/armored/spool-mirror\"";
    auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return gateway::parse_gateway_config(t, "/etc/armored/gateway.toml");
  };
  auto on = with("mirror = \"/var/lib/armored/spool-mirror\"");
  ASSERT_TRUE(on) << on.error().message;
  ASSERT_TRUE(on->spool_mirror);
  EXPECT_EQ(*on->spool_mirror, "/var/lib/armored/spool-mirror");
  auto relative = with("mirror = \"spool-mirror\"");
  ASSERT_TRUE(relative) << relative.error().message;
  EXPECT_EQ(*relative->spool_mirror, "/etc/armored/spool-mirror");
  for (const char* bad : {"mirror = \"spool\"", "mirror = \"spool/mirror\"", "mirror = \"/etc/armored/spool/./m\""}) {
    auto r = with(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("spool.mirror"), std::string::npos) << r.error().message;
  }

  const auto cl = testing::slurp(testing::source_path("config/cloud.toml"));
  auto c = cloud::parse_cloud_config(cl, "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->check_at_start_max_bytes, std::uint64_t{512} << 20);
  std::string neg = cl;
  neg.replace(neg.find("check_at_start_max_bytes = 536870912"), 36, "check_at_start_max_bytes = -1");
  auto n = cloud::parse_cloud_config(neg, "c.toml");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("check_at_start_max_bytes"), std::string::npos) << n.error().message;
}

TEST(SampleConfig, PlaintextPortsAndMissingTlsAreRefused) {
  auto text = testing::slurp(testing::source_path("config/cloud.toml"));
  auto plain = text;
  plain.replace(plain.find("port = 8883"), 11, "port = 1883");
  auto c = cloud::parse_cloud_config(plain, "c.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("plaintext"), std::string::npos) << c.error().message;
  auto no_tls = cloud::parse_cloud_config("[listen]\nport = 8883\n[e3]\ndir = \"e3\"\npki_dir = \"p\"\n", "c.toml");
  ASSERT_FALSE(no_tls);
  EXPECT_NE(no_tls.error().message.find("no listener without TLS"), std::string::npos);
  auto gw = testing::slurp(testing::source_path("config/gateway.toml"));
  gw.replace(gw.find("port = 8883"), 11, "port = 1883");
  auto g = gateway::parse_gateway_config(gw, "g.toml");
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("only over TLS"), std::string::npos);
}

TEST(SampleConfig, UnknownKeysAndBadValuesNameTheLine) {
  auto text = testing::slurp(testing::source_path("config/cloud.toml"));
  auto typo = text;
  typo.replace(typo.find("replay_window = 64"), 18, "replay_windw = 64");
  auto c = cloud::parse_cloud_config(typo, "c.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("unknown key e3.replay_windw"), std::string::npos) << c.error().message;
  auto big = text;
  big.replace(big.find("replay_window = 64"), 18, "replay_window = 99999");
  c = cloud::parse_cloud_config(big, "c.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("e3.replay_window is 99999"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace armored
