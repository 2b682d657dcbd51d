// [admin] and [commands] of cloud.toml: defaults, the sample, bad values.

#include <gtest/gtest.h>

#include "cloud/config.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

const std::string kBase =
    "[tls]\nca = \"ca\"\ncertificate = \"c\"\nkey = \"k\"\ncrl = \"crl\"\n[e3]\ndir = \"e3\"\npki_dir = \"pki\"\n";

TEST(AdminConfig, SocketDefaultsNextToTheDatabase) {
  auto c = parse_cloud_config(kBase + "[storage]\nsqlite_path = \"/var/lib/armored/db/armored.db\"\n",
                              "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.socket, "/var/lib/armored/db/cloud.sock");
  EXPECT_TRUE(c->admin.enabled);
  EXPECT_TRUE(c->admin.schema.empty());  // the compiled-in schema
  EXPECT_EQ(c->admin.ack_timeout, std::chrono::seconds(120));
}

TEST(AdminConfig, ExplicitValuesAreRelativeToTheConfigFile) {
  auto c = parse_cloud_config(kBase + "[admin]\nsocket = \"run/a.sock\"\nmax_request_bytes = 4096\n"
                                      "max_requests_per_connection = 5\nidle_timeout_s = 3\n"
                                      "[commands]\nschema = \"cmds.toml\"\nack_timeout_s = 30\n",
                              "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.socket, "/etc/armored/run/a.sock");
  EXPECT_EQ(c->admin.schema, "/etc/armored/cmds.toml");
  EXPECT_EQ(c->admin.limits.max_request_bytes, 4096u);
  EXPECT_EQ(c->admin.limits.max_requests_per_connection, 5u);
  EXPECT_EQ(c->admin.idle_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c->admin.ack_timeout, std::chrono::seconds(30));
}

TEST(AdminConfig, BadValuesNameTheKey) {
  for (const char* bad : {"[admin]\nmax_request_bytes = 10\n", "[admin]\nport = 9000\n",
                          "[commands]\nack_timeout_s = 0\n", "[admin]\nsocket = 5\n"}) {
    auto c = parse_cloud_config(kBase + bad, "c.toml");
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().message.find("c.toml"), std::string::npos) << c.error().message;
  }
}

TEST(AdminConfig, SampleDocumentsTheSections) {
  auto text = armored::testing::slurp(armored::testing::source_path("config/cloud.toml"));
  auto c = parse_cloud_config(text, "/etc/armored/cloud.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.socket, "/etc/armored/cloud.sock");
  EXPECT_EQ(c->admin.limits.max_request_bytes, 65536u);
  EXPECT_EQ(c->admin.ack_timeout, std::chrono::seconds(120));
}

}  // namespace
}  // namespace armored::cloud
