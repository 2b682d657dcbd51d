// Mistyped commands and options are named with the nearest valid word, and
// exit 2 (bad usage): the words a newcomer types wrong first.

#include "cli/near_miss.h"

#include <gtest/gtest.h>

#include "support/process.h"

namespace armored::cli {
namespace {

using armored::testing::armored_binary;
using armored::testing::run;

TEST(NearMiss, EditDistanceCountsSwapsAsOne) {
  EXPECT_EQ(edit_distance("cloud", "cloud"), 0u);
  EXPECT_EQ(edit_distance("clowd", "cloud"), 1u);
  EXPECT_EQ(edit_distance("isue", "issue"), 1u);
  EXPECT_EQ(edit_distance("cluod", "cloud"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(NearMiss, SuggestsOnlyWhatIsCloseOrAnUnambiguousPrefix) {
  const std::vector<std::string> cmds{"pki", "enroll", "cloud", "command", "gateway", "fleet"};
  EXPECT_EQ(nearest("clowd", cmds), "cloud");
  EXPECT_EQ(nearest("gatway", cmds), "gateway");
  EXPECT_EQ(nearest("xyz", cmds), "") << "nothing close";
  EXPECT_EQ(nearest("c", cmds), "") << "one letter is not a typo of anything";
  EXPECT_EQ(nearest("co", cmds), "command") << "an unambiguous prefix";
  EXPECT_EQ(nearest("--ch", {"--check", "--chain"}), "") << "a prefix of two options";
  const std::vector<std::string> opts{"--config", "--broker", "--check", "--json"};
  EXPECT_EQ(nearest("--conf", opts), "--config");
  EXPECT_EQ(nearest("--jsn", opts), "--json");
}

struct Case {
  std::vector<std::string> args;
  std::string message;
};

TEST(NearMiss, TheProgramNamesTheWordAndExits2) {
  const std::vector<Case> cases = {
      {{"clowd"}, "unknown command 'clowd' for 'armored' (did you mean 'cloud'?)"},
      {{"pki", "isue"}, "unknown command 'isue' for 'armored pki' (did you mean 'issue'?)"},
      {{"cloud", "--conf", "cloud.toml"}, "unknown option '--conf' for 'armored cloud' (did you mean '--config'?)"},
      {{"--jsn", "version"}, "unknown option '--jsn' for 'armored' (did you mean '--json'?)"},
      {{"frobnicate"}, "unknown command 'frobnicate' for 'armored'; commands: "},
      {{"pki"}, "'armored pki' needs a command: init, issue"},
      {{}, "'armored' needs a command: "},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{armored_binary().string()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("armored: " + c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
  }
  // A known command with a bad value still gets CLI11's own message.
  auto v = run({armored_binary().string(), "pki", "issue", "gatway", "--id", "x", "--dir", "p"});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("gatway not in"), std::string::npos) << v.err;
}

}  // namespace
}  // namespace armored::cli
