#include <gtest/gtest.h>

#include <fstream>

#include "energy/profile.h"
#include "support/process.h"

namespace armored::energy {
namespace {

std::string shipped(const std::string& name) {
  return testing::slurp(testing::source_path("config/energy/" + name + ".toml"));
}

TEST(EnergyProfile, ShippedProfilesLoadByNameAndMatchTheFiles) {
  auto names = builtin_profile_names();
  ASSERT_EQ(names.size(), 2u);
  for (const auto& n : names) {
    auto p = load_profile(n);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->name, n);
    auto from_file = parse_profile(shipped(n), n);
    ASSERT_TRUE(from_file);
    EXPECT_EQ(from_file->cpu_current_ma, p->cpu_current_ma);
  }
}

TEST(EnergyProfile, LoadsAFileByPath) {
  testing::TempDir dir;
  std::ofstream(dir / "mine.toml") << shipped("esp32-wifi");
  auto p = load_profile((dir / "mine.toml").string());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "esp32-wifi");
}

TEST(EnergyProfile, UnknownNameListsTheShippedOnes) {
  auto p = load_profile("no-such-device");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("esp32-wifi"), std::string::npos);
}

TEST(EnergyProfile, MissingKeyIsNamed) {
  std::string t = shipped("esp32-wifi");
  auto pos = t.find("tx_current_ma");
  t.replace(pos, 2, "xx");
  auto p = parse_profile(t, "bad.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "bad.toml: radio.tx_current_ma is missing");
  // ...and the renamed key is unknown, which is an error of its own once present.
  t.replace(t.find("xx_current_ma"), 2, "tx");
  t += "\n[radio2]\n";
  auto q = parse_profile(t, "bad.toml");
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().message.find("unknown section [radio2]"), std::string::npos);
}

TEST(EnergyProfile, OutOfRangeAndWrongTypeAreNamed) {
  std::string t = shipped("esp32-wifi");
  std::string neg = t;
  neg.replace(neg.find("cpu_current_ma = 160.0"), 22, "cpu_current_ma = -1.0");
  auto p = parse_profile(neg, "neg.toml");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("power.cpu_current_ma is -1, must be between"), std::string::npos)
      << p.error().message;
  std::string str = t;
  str.replace(str.find("rtt_ms = 25.0"), 13, "rtt_ms = \"x\"");
  p = parse_profile(str, "str.toml");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("radio.rtt_ms must be a number"), std::string::npos);
  std::string aead = t;
  aead.replace(aead.find("default_aead = \"aes-128-gcm\""), 28, "default_aead = \"rot13\"");
  p = parse_profile(aead, "aead.toml");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("crypto.default_aead is 'rot13', must be one of"), std::string::npos);
}

TEST(EnergyProfile, SyntaxErrorNamesTheLine) {
  auto p = parse_profile("name = \"x\"\n[power\n", "syntax.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message.rfind("syntax.toml:2:", 0), 0u) << p.error().message;
}

}  // namespace
}  // namespace armored::energy
