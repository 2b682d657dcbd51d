#include "config/http_listener.h"

#include <gtest/gtest.h>

#include "config/toml_reader.h"

namespace armored::config {
namespace {

Result<HttpListener, Error> read(const std::string& text) {
  auto doc = TomlDocument::parse(text, "cloud.toml");
  if (!doc) return unexpected(doc.error());
  HttpListener l;
  auto r = read_http_listener(*doc, "metrics", l);
  if (!r) return unexpected(r.error());
  return l;
}

TEST(HttpListenerSection, AbsentMeansOff) {
  auto l = read("[status]\ninterval_s = 5\n");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_FALSE(l->enabled);
}

TEST(HttpListenerSection, APortTurnsItOnOnLoopback) {
  auto l = read("[metrics]\nport = 9464\n");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_TRUE(l->enabled);
  EXPECT_EQ(l->endpoint(), "127.0.0.1:9464");
  auto v6 = read("[metrics]\nport = 0\naddress = \"::1\"\n");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->endpoint(), "[::1]:0");
}

TEST(HttpListenerSection, ANetworkAddressMustBeMeant) {
  auto l = read("[metrics]\nport = 9464\naddress = \"0.0.0.0\"\n");
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("not a loopback address"), std::string::npos) << l.error().message;
  EXPECT_NE(l.error().message.find("allow_remote"), std::string::npos);
  auto meant = read("[metrics]\nport = 9464\naddress = \"0.0.0.0\"\nallow_remote = true\n");
  ASSERT_TRUE(meant) << meant.error().message;
  EXPECT_EQ(meant->endpoint(), "0.0.0.0:9464");
}

TEST(HttpListenerSection, MistakesAreNamed) {
  auto no_port = read("[metrics]\naddress = \"127.0.0.1\"\n");
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.error().message.find("needs a port"), std::string::npos) << no_port.error().message;
  auto typo = read("[metrics]\nprot = 9464\n");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("prot"), std::string::npos) << typo.error().message;
  auto host = read("[metrics]\nport = 9464\naddress = \"localhost\"\n");
  EXPECT_FALSE(host);
  auto range = read("[metrics]\nport = 70000\n");
  EXPECT_FALSE(range);
}

}  // namespace
}  // namespace armored::config
