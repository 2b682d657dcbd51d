#include "support/process.h"

#include <gtest/gtest.h>

namespace armored::testing {
namespace {

TEST(TestSupport, RunsProgramsWithoutAShellAndCapturesOutput) {
  auto r = run({"printf", "%s;", "a b", "$(id)"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "a b;$(id);");  // arguments reach the program verbatim
}

TEST(TestSupport, ReportsExitCodeAndTimeout) {
  EXPECT_EQ(run({"false"}).exit_code, 1);
  EXPECT_EQ(run({"sleep", "5"}, std::chrono::milliseconds(100)).exit_code, -1);
}

TEST(TestSupport, TheArmoredBinaryRuns) {
  auto r = run({armored_binary().string(), "version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("armored"), std::string::npos);
  auto bad = run({armored_binary().string(), "no-such-command"});
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
}  // namespace armored::testing
