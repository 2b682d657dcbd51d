// `armored quickstart DIR` end to end through the built program: what it
// makes and with which modes, the commands it prints, each way it refuses
// (exit code and message), and the options of other commands it relies on
// (`fleet --gateway-config`, `command send --wait` running out).

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/process.h"

namespace armored::quickstart {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using armored::testing::armored_binary;
using armored::testing::run;
using armored::testing::RunResult;
using armored::testing::slurp;
using armored::testing::Subprocess;
using armored::testing::TempDir;
using nlohmann::json;

RunResult armored(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
  args.insert(args.begin(), armored_binary().string());
  return run(args, timeout);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

bool wait_for_text(const fs::path& file, const std::string& text, std::chrono::seconds timeout = 30s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (slurp(file).find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

TEST(Quickstart, MakesAnOwnerOnlySetupOnPortsThatWereFree) {
  TempDir t;
  const fs::path dir = t / "demo";
  auto r = armored({"--json", "quickstart", dir.string(), "--devices", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("quickstart: 3 wearables, each with its own key"), std::string::npos) << r.err;
  const json j = json::parse(r.out);
  const int cloud_port = j["cloud"]["port"], gateway_port = j["gateway"]["port"];
  EXPECT_GT(cloud_port, 0);
  EXPECT_GT(gateway_port, 0);
  EXPECT_EQ(j["devices"]["first"], "wearable-0001");
  EXPECT_EQ(j["devices"]["last"], "wearable-0003");
  EXPECT_EQ(j["ports_free_at_creation"], true);

  for (const char* secret_dir : {"", "e3", "pki/private", "pki/cloud", "pki/gateway", "pki/device"}) {
    EXPECT_EQ(mode_of(dir / secret_dir), 0700u) << secret_dir;
  }
  for (const char* key : {"pki/cloud/cloud.key", "pki/gateway/gw1.key", "pki/device/wearable-0001.key",
                          "pki/device/wearable-0003.key", "e3/cloud-e3.key", "cloud.toml", "gateway.toml"}) {
    EXPECT_EQ(mode_of(dir / key), 0600u) << key;
  }
  EXPECT_FALSE(fs::exists(dir / "pki/device/wearable-0004.key"));
  const std::string cloud = slurp(dir / "cloud.toml"), gateway = slurp(dir / "gateway.toml");
  EXPECT_NE(cloud.find("port = " + std::to_string(cloud_port) + "\n"), std::string::npos) << cloud;
  EXPECT_NE(gateway.find("port = " + std::to_string(gateway_port) + "\n"), std::string::npos) << gateway;
  EXPECT_NE(gateway.find("port = " + std::to_string(cloud_port) + "\n"), std::string::npos) << gateway;
  EXPECT_TRUE(j["commands"]["cloud"].get<std::string>().ends_with("armored cloud --config cloud.toml")) << j.dump();
}

TEST(Quickstart, PrintsCommandsThatRunAsPrinted) {
  TempDir t;
  // Not on PATH: the commands name this program by its path.
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/usr/bin:/bin", 1);
  auto r = armored({"quickstart", (t / "a b").string(), "--devices", "1"});
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string self = armored_binary().string();
  EXPECT_NE(r.out.find("cd '" + (t / "a b").string() + "' && " + self + " cloud --config cloud.toml\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(self + " fleet --devices 1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--gateway-config gateway.toml"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" command send --config cloud.toml --device wearable-0001 --wait 10 set_interval seconds=60\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("ports were free when the files were written"), std::string::npos) << r.out;
}

TEST(Quickstart, RefusesANonEmptyDirectoryUnlessForcedAndForceKeepsWhatItDidNotMake) {
  TempDir t;
  const fs::path dir = t / "mine";
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "keep me";
  auto r = armored({"quickstart", dir.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "armored: " + dir.string() +
                       " is not empty (notes.txt): give a new directory, or add --force to replace what "
                       "quickstart makes there\n");
  EXPECT_FALSE(fs::exists(dir / "pki"));

  r = armored({"--json", "quickstart", dir.string(), "--force", "--devices", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(dir / "notes.txt"), "keep me");
  const std::string first_config = slurp(dir / "cloud.toml");
  r = armored({"--json", "quickstart", dir.string(), "--force", "--devices", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["removed"], json({"cloud.toml", "e3", "gateway.toml", "pki"}));
  EXPECT_EQ(slurp(dir / "notes.txt"), "keep me");
  EXPECT_TRUE(fs::exists(dir / "pki/device/wearable-0001.key"));
}

TEST(Quickstart, BadInputExitsTwoWithOneLine) {
  TempDir t;
  std::ofstream(t / "file") << "x";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"quickstart", (t / "file").string()}, "armored: " + (t / "file").string() + " exists and is not a directory"},
           {{"quickstart", (t / "d1").string(), "--devices", "0"}, "--devices"},
           {{"quickstart", (t / "d2").string(), "--devices", "10001"}, "--devices"},
           {{"quickstart"}, "dir"},
           {{"quickstrat", (t / "d3").string()}, "did you mean 'quickstart'"},
       }) {
    auto r = armored(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(fs::exists(t / "d1"));
  EXPECT_FALSE(fs::exists(t / "d2"));
}

TEST(FleetGatewayConfig, BadInputExitsTwo) {
  TempDir t;
  ASSERT_EQ(armored({"quickstart", (t / "q").string(), "--devices", "1"}).exit_code, 0);
  const std::string q = (t / "q").string();
  const std::vector<std::string> base = {"fleet", "--devices", "1", "--pki", q + "/pki", "--e3", q + "/e3",
                                         "--state", q + "/state", "--duration", "1s"};
  std::string zero = slurp(t / "q/gateway.toml");
  zero.replace(zero.find("\nport = ") + 8, zero.find('\n', zero.find("\nport = ") + 1) - zero.find("\nport = ") - 8, "0");
  std::ofstream(t / "zero.toml") << zero;
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--gateway-config", (t / "none.toml").string()}, "none.toml"},
           {{"--gateway-config", q + "/gateway.toml", "--gateway", "127.0.0.1:5683"}, "excludes"},
           {{"--gateway-config", (t / "zero.toml").string()}, "udp.port is 0"},
       }) {
    auto args = base;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    auto r = armored(args);
    EXPECT_EQ(r.exit_code, 2) << c.extra.front() << ": " << r.err;
    EXPECT_NE(r.err.find("armored: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

// --wait running out is not a refusal: the command was sent and may still be
// answered. The program says which, and exits 1.
TEST(CommandSendWait, RunningOutSaysTheCommandWasSentAndExitsOne) {
  TempDir t;
  const fs::path q = t / "q";
  ASSERT_EQ(armored({"quickstart", q.string(), "--devices", "1"}).exit_code, 0);
  Subprocess::Options co;
  co.cwd = q;
  co.stdout_path = t / "cloud.out";
  co.stderr_path = t / "cloud.err";
  Subprocess cloud({armored_binary().string(), "cloud", "--config", "cloud.toml"}, co);
  Subprocess::Options go = co;
  go.stdout_path = t / "gateway.out";
  go.stderr_path = t / "gateway.err";
  ASSERT_TRUE(wait_for_text(t / "cloud.out", "listening on")) << slurp(t / "cloud.err");
  Subprocess gateway({armored_binary().string(), "gateway", "--config", "gateway.toml"}, go);
  ASSERT_TRUE(wait_for_text(t / "gateway.out", "listening on udp")) << slurp(t / "gateway.err");
  // The device is seen (its readings teach the cloud the route) and then gone:
  // the command is relayed to nobody.
  auto fleet = armored({"fleet", "--devices", "1", "--interval", "200ms", "--duration", "2s", "--gateway-config",
                        (q / "gateway.toml").string(), "--pki", (q / "pki").string(), "--e3", (q / "e3").string(),
                        "--state", (q / "state").string()},
                       90s);
  ASSERT_EQ(fleet.exit_code, 0) << fleet.out << fleet.err << slurp(t / "gateway.err") << slurp(t / "cloud.err");
  RunResult r;
  const auto until = std::chrono::steady_clock::now() + 30s;
  do {  // until the cloud has stored the readings and so knows the route
    r = armored({"command", "send", "--config", (q / "cloud.toml").string(), "--device", "wearable-0001", "--wait",
                 "2", "set_interval", "seconds=60"},
                30s);
    if (r.err.find("has not been seen") == std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < until);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("set_interval sent to wearable-0001 via gw1"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("armored: no answer from wearable-0001 within 2 s; command "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("was sent and the cloud still takes its answer (up to 120 s after sending, then marks it "
                       "expired): armored command status --config " +
                       (q / "cloud.toml").string() + " --device wearable-0001\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(gateway.stop(), 0) << slurp(t / "gateway.err");
  EXPECT_EQ(cloud.stop(), 0) << slurp(t / "cloud.err");
}

}  // namespace
}  // namespace armored::quickstart
