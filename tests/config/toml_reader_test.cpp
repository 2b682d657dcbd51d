#include "config/toml_reader.h"

#include <gtest/gtest.h>

namespace armored::config {
namespace {

constexpr const char* kDoc = R"(name = "x"
[listen]
port = 8883
address = "127.0.0.1"
ratio = 0.5
enabled = true
names = ["a", "b"]
)";

TEST(TomlReader, ReadsTypedValuesAndDefaults) {
  auto d = TomlDocument::parse(kDoc, "t.toml");
  ASSERT_TRUE(d) << d.error().message;
  auto s = d->section("listen");
  std::int64_t port = 0;
  std::string addr;
  double ratio = 0;
  bool enabled = false;
  std::vector<std::string> names;
  std::int64_t backlog = 128;
  ASSERT_TRUE(s.get("port", port, 1, 65535));
  ASSERT_TRUE(s.get("address", addr));
  ASSERT_TRUE(s.get("ratio", ratio, 0, 1));
  ASSERT_TRUE(s.get("enabled", enabled));
  ASSERT_TRUE(s.get("names", names));
  ASSERT_TRUE(s.get_optional("backlog", backlog, 1, 4096));
  EXPECT_EQ(port, 8883);
  EXPECT_EQ(addr, "127.0.0.1");
  EXPECT_EQ(ratio, 0.5);
  EXPECT_TRUE(enabled);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(backlog, 128);  // absent: default kept
  EXPECT_TRUE(s.reject_unknown_keys());
}

TEST(TomlReader, ErrorsNameFileLineKeyAndExpectation) {
  auto d = TomlDocument::parse(kDoc, "t.toml");
  ASSERT_TRUE(d);
  auto s = d->section("listen");
  std::int64_t port = 0;
  auto r = s.get("port", port, 1, 1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml:3: listen.port is 8883, must be between 1 and 1000");
  std::string str;
  r = s.get("port", str);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml:3: listen.port must be a string");
  bool b = false;
  r = s.get("address", b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml:4: listen.address must be true or false");
  double dbl = 0;
  r = s.get("missing", dbl, 0, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml: listen.missing is missing");
  std::int64_t i = 0;
  r = s.get("ratio", i, 0, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml:5: listen.ratio must be a whole number");
}

TEST(TomlReader, UnknownKeysAndSectionsAreErrors) {
  auto d = TomlDocument::parse(kDoc, "t.toml");
  ASSERT_TRUE(d);
  auto s = d->section("listen");
  std::int64_t port = 0;
  ASSERT_TRUE(s.get("port", port, 1, 65535));
  auto r = s.reject_unknown_keys();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "t.toml:4: unknown key listen.address");
  auto sec = d->reject_unknown_sections({"other"});
  ASSERT_FALSE(sec);
  EXPECT_EQ(sec.error().message, "t.toml:2: unknown section [listen]");
}

TEST(TomlReader, ChoicesAreChecked) {
  auto d = TomlDocument::parse("mode = \"fast\"\n", "c.toml");
  ASSERT_TRUE(d);
  auto root = d->section("");
  std::string mode = "safe";
  auto r = root.get_optional_choice("mode", mode, {"safe", "strict"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "c.toml:1: mode is 'fast', must be one of safe, strict");
  EXPECT_EQ(mode, "safe");
}

TEST(TomlReader, SyntaxErrorsNameTheLine) {
  auto d = TomlDocument::parse("a = 1\nb = [\n", "s.toml");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message.rfind("s.toml:", 0), 0u);
  auto missing = TomlDocument::load("/nonexistent/x.toml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/x.toml"), std::string::npos);
}

TEST(TomlReader, AbsentSectionReadsAsEmpty) {
  auto d = TomlDocument::parse("", "e.toml");
  ASSERT_TRUE(d);
  auto s = d->section("nothing");
  std::int64_t v = 7;
  EXPECT_TRUE(s.get_optional("x", v, 0, 10));
  EXPECT_EQ(v, 7);
  EXPECT_FALSE(s.get("x", v, 0, 10));
  EXPECT_TRUE(s.reject_unknown_keys());
}

}  // namespace
}  // namespace armored::config
