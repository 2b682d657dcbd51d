// One error path into the CLI (src/cli/command.h): every error is one line
// on stderr naming its component and code, the same error is a JSON object
// on stdout with --json, and the exit code follows the error's kind: 2 for
// bad usage or input the user can fix, 1 for an operation that ran and failed.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace armored::cli {
namespace {

namespace fs = std::filesystem;
using armored::testing::armored_binary;
using armored::testing::RunResult;
using armored::testing::TempDir;
using nlohmann::json;

RunResult armored(std::vector<std::string> args) {
  args.insert(args.begin(), armored_binary().string());
  return armored::testing::run(args, std::chrono::seconds(120));
}

// The one JSON line --json prints on stdout for an error.
json error_json(const RunResult& r) {
  const json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error")) return json();
  return j["error"];
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(Errors, AMissingConfigFileIsBadInputExitTwo) {
  TempDir t;
  const std::string missing = (t / "missing.toml").string();
  auto r = armored({"cloud", "--config", missing});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("armored: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  r = armored({"--json", "cloud", "--config", missing});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const json e = error_json(r);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["component"], "armored");  // a message-only error: its code is its kind
  EXPECT_EQ(e["code"], "bad_input");
  EXPECT_EQ(e["exit_code"], 2);
  EXPECT_NE(e["message"].get<std::string>().find(missing), std::string::npos) << r.out;
}

TEST(Errors, BadUsageIsExitTwoWithJsonToo) {
  auto r = armored({"--json", "cloud"});  // --config is required
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
  const json e = error_json(r);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["code"], "bad_input");
  EXPECT_EQ(e["exit_code"], 2);
}

TEST(Errors, AComponentErrorKeepsComponentAndCode) {
  TempDir t;
  ASSERT_EQ(armored({"pki", "init", "--dir", (t / "pki").string()}).exit_code, 0);
  auto r = armored({"pki", "issue", "device", "--id", "no/slash", "--dir", (t / "pki").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("armored: pki: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(" (bad_input)\n"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;

  r = armored({"--json", "pki", "issue", "device", "--id", "no/slash", "--dir", (t / "pki").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const json e = error_json(r);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["component"], "pki");
  EXPECT_EQ(e["code"], "bad_input");
  EXPECT_EQ(e["exit_code"], 2);
}

// The file exists, so the user named it right; it is not a database, so
// opening the store fails at run time.
TEST(Errors, AStoreThatCannotOpenIsAFailureExitOne) {
  TempDir t;
  const fs::path db = t / "not-a-database.db";
  std::ofstream(db) << std::string(4096, 'x');
  auto r = armored({"--json", "report", "gaps", "--db", db.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("armored: store: ", 0), 0u) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  const json e = error_json(r);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["component"], "store");
  EXPECT_FALSE(e["code"].get<std::string>().empty());
  EXPECT_EQ(e["exit_code"], 1);
}

TEST(Errors, ACloudThatCannotBindItsPortIsAFailureExitOne) {
  TempDir t;
  const fs::path q = t / "q";
  ASSERT_EQ(armored({"quickstart", q.string(), "--devices", "1"}).exit_code, 0);
  // Hold the port quickstart wrote into cloud.toml.
  const int held = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(held, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(held, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(held, 1), 0);
  ASSERT_EQ(::getsockname(held, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::string config = armored::testing::slurp(q / "cloud.toml");
  const auto at = config.find("\nport = ");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, config.find('\n', at + 1) - at, "\nport = " + std::to_string(ntohs(a.sin_port)));
  std::ofstream(q / "cloud.toml") << config;

  auto r = armored({"--json", "cloud", "--config", (q / "cloud.toml").string()});
  ::close(held);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("armored: ", 0), 0u) << r.err;
  const json e = error_json(r);
  ASSERT_TRUE(e.is_object()) << r.out;
  EXPECT_EQ(e["exit_code"], 1);
}

TEST(Errors, HelpListsTheCommandsInTheOrderMainStatesOnce) {
  auto r = armored({"--help"});
  ASSERT_EQ(r.exit_code, 0);
  std::size_t at = 0;
  for (const char* name : {"quickstart", "pki", "enroll", "cloud", "command", "gateway", "fleet", "status", "e3",
                           "energy", "report", "audit", "version"}) {
    const auto next = r.out.find(std::string("\n  ") + name + " ", at);
    ASSERT_NE(next, std::string::npos) << name << " missing or out of order:\n" << r.out;
    at = next + 1;
  }
}

}  // namespace
}  // namespace armored::cli
