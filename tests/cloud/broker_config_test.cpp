// The [broker] section and broker URLs: only mqtts:// is accepted, with a
// message saying why; the documented sample section loads with every option.

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "cloud/broker_config.h"
#include "cloud/config.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

TEST(BrokerUrl, MqttsWithHostAndPort) {
  auto u = parse_broker_url("mqtts://broker.example.net:8884");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "broker.example.net");
  EXPECT_EQ(u->port, 8884);
  auto d = parse_broker_url("mqtts://abc-ats.iot.eu-west-1.amazonaws.com");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 8883) << "8883 by default";
  auto v6 = parse_broker_url("mqtts://[::1]:9883/");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9883);
}

TEST(BrokerUrl, PlaintextSchemesAreRefusedSayingWhy) {
  for (const char* url : {"mqtt://localhost:1883", "tcp://localhost:8883", "ws://localhost"}) {
    auto u = parse_broker_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_NE(u.error().message.find("plaintext"), std::string::npos) << u.error().message;
    EXPECT_NE(u.error().message.find("mqtts://"), std::string::npos) << u.error().message;
  }
  auto port = parse_broker_url("mqtts://localhost:1883");
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("plaintext"), std::string::npos);
}

TEST(BrokerUrl, MalformedUrlsNameTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"localhost:8883", "must look like mqtts://"},
      {"mqtts://", "no host"},
      {"mqtts://:8883", "no host"},
      {"mqtts://host:", "empty port"},
      {"mqtts://host:0", "1..65535"},
      {"mqtts://host:65536", "1..65535"},
      {"mqtts://host:88a3", "1..65535"},
      {"mqtts://user@host:8883", "no path, query or user"},
      {"mqtts://host:8883/topic", "no path, query or user"},
      {"mqtts://[::1:8883", "unterminated"},
  };
  for (const auto& [url, why] : cases) {
    auto u = parse_broker_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_NE(u.error().message.find(why), std::string::npos) << url << ": " << u.error().message;
  }
}

std::string base_config() {
  return "[tls]\nca = \"ca\"\ncertificate = \"c\"\nkey = \"k\"\ncrl = \"crl\"\n[e3]\ndir = \"e3\"\npki_dir = \"p\"\n";
}

TEST(BrokerSection, AbsentMeansNoBrokerSource) {
  auto c = parse_cloud_config(base_config(), "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->broker_enabled);
}

TEST(BrokerSection, ReadsEveryKeyAndResolvesPaths) {
  auto c = parse_cloud_config(base_config() +
                                  "[broker]\nurl = \"mqtts://b.example:8883\"\nca = \"broker-ca.crt\"\n"
                                  "certificate = \"ingest.crt\"\nkey = \"ingest.key\"\nserver_name = \"b.example\"\n"
                                  "client_id = \"cloud-7\"\nkeep_alive_s = 45\nmax_unacknowledged = 99\n",
                              "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->broker_enabled);
  EXPECT_EQ(c->broker.endpoint.host, "b.example");
  EXPECT_EQ(c->broker.tls.ca_file, "/etc/armored/broker-ca.crt");
  EXPECT_EQ(c->broker.tls.role, tls::Role::kClient);
  EXPECT_EQ(c->broker.client_id, "cloud-7");
  EXPECT_EQ(c->broker.keep_alive_s, 45);
  EXPECT_EQ(c->broker.max_unacknowledged, 99u);
  EXPECT_EQ(c->broker.ticket_dir, "/etc/armored/broker-tickets");
}

TEST(BrokerSection, CredentialsAreRequiredAndPlaintextRefused) {
  auto no_key = parse_cloud_config(base_config() + "[broker]\nurl = \"mqtts://b:8883\"\nca = \"a\"\n", "c.toml");
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message.find("mutual TLS"), std::string::npos) << no_key.error().message;
  auto plain = parse_cloud_config(
      base_config() + "[broker]\nurl = \"mqtt://b:1883\"\nca = \"a\"\ncertificate = \"c\"\nkey = \"k\"\n", "c.toml");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("plaintext"), std::string::npos) << plain.error().message;
  auto typo = parse_cloud_config(base_config() + "[broker]\nurl = \"mqtts://b\"\nclientid = \"x\"\n", "c.toml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("broker.clientid"), std::string::npos) << typo.error().message;
}

TEST(BrokerSection, ReceiptsAreOnByDefaultWithTheCloudsOwnKey) {
  const std::string creds = "[broker]\nca = \"a\"\ncertificate = \"c\"\nkey = \"k\"\n";
  auto c = parse_cloud_config(base_config() + creds, "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->broker.receipts);
  EXPECT_TRUE(c->broker.receipt_key_file.empty()) << "empty: the [tls] key signs";
  EXPECT_EQ(c->broker.receipt_interval, std::chrono::milliseconds(100));
  auto k = parse_cloud_config(
      base_config() + creds + "receipts = false\nreceipt_key = \"r.key\"\nreceipt_interval_ms = 250\n",
      "/etc/armored/cloud.toml");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_FALSE(k->broker.receipts);
  EXPECT_EQ(k->broker.receipt_key_file, "/etc/armored/r.key");
  EXPECT_EQ(k->broker.receipt_interval, std::chrono::milliseconds(250));
  auto bad = parse_cloud_config(base_config() + creds + "receipt_interval_ms = 0\n", "c.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("receipt_interval_ms"), std::string::npos) << bad.error().message;
}

TEST(BrokerSection, CommandLineUrlOverridesTheFile) {
  auto c = parse_cloud_config(
      base_config() + "[broker]\nca = \"a\"\ncertificate = \"c\"\nkey = \"k\"\n", "c.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->broker.url.empty());
  ASSERT_TRUE(set_broker_url(c->broker, "mqtts://127.0.0.1:18883"));
  EXPECT_EQ(c->broker.endpoint.port, 18883);
  EXPECT_FALSE(set_broker_url(c->broker, "mqtt://127.0.0.1:1883"));
  EXPECT_EQ(c->broker.url, "mqtts://127.0.0.1:18883") << "a refused URL changes nothing";
}

// config/cloud.toml documents [broker] commented out (it is optional);
// uncommented, every option it lists must load.
TEST(BrokerSection, SampleSectionLoadsWhenUncommented) {
  auto text = armored::testing::slurp(armored::testing::source_path("config/cloud.toml"));
  auto at = text.find("# [broker]");
  ASSERT_NE(at, std::string::npos);
  // Up to the next section's comment block ([cluster]), which stays commented.
  const auto end = text.find("\n# [cluster]", at);
  std::istringstream in(text.substr(at, end == std::string::npos ? std::string::npos : end - at));
  static const std::regex option(R"(^# (\[broker\]|[a-z_]+ = .*)$)");
  std::string line, section;
  int keys = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, option)) {
      section += m[1].str() + "\n";
      ++keys;
    }
  }
  auto c = parse_cloud_config(text.substr(0, at) + section + (end == std::string::npos ? "" : text.substr(end)),
                              "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message << "\n" << section;
  EXPECT_TRUE(c->broker_enabled);
  EXPECT_GE(keys, 16);
  EXPECT_EQ(c->broker.endpoint.port, 8883);
}

}  // namespace
}  // namespace armored::cloud
