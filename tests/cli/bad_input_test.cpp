// Bad input to the program is refused with exit 2 and a line naming what
// was wrong, before anything is contacted or created.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace armored::cli {
namespace {

namespace fs = std::filesystem;
using armored::testing::armored_binary;
using armored::testing::run;
using armored::testing::source_path;
using armored::testing::TempDir;

TEST(BadInput, CommandSendChecksTheDeviceIdItself) {
  TempDir dir;
  auto r = run({armored_binary().string(), "command", "send", "--cloud-socket", (dir / "no.sock").string(), "--device",
                "../../etc", "set_interval", "seconds=60"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("armored: --device"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("admin socket"), std::string::npos) << "refused before contacting the cloud: " << r.err;
}

TEST(BadInput, ListenAndUdpAddressesMustBeIpAddresses) {
  TempDir dir;
  struct Case {
    const char* program;
    const char* config;
    const char* key;
  };
  for (const Case c : {Case{"cloud", "config/cloud.toml", "listen.address"},
                       Case{"gateway", "config/gateway.toml", "udp.address"}}) {
    std::ifstream in(source_path(c.config));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find("\naddress = \"");
    ASSERT_NE(at, std::string::npos) << c.config;
    const auto end = text.find('\n', at + 1);
    text.replace(at, end - at, "\naddress = \"0.0.0.0x\"");
    const fs::path file = dir / (std::string(c.program) + ".toml");
    std::ofstream(file) << text;
    auto r = run({armored_binary().string(), c.program, "--config", file.string()});
    EXPECT_EQ(r.exit_code, 2) << c.program << ": " << r.err;
    EXPECT_NE(r.err.find(std::string(c.key) + " is '0.0.0.0x', not an IPv4 or IPv6 address"), std::string::npos)
        << r.err;
  }
}

// Refused as usage (exit 2) before anything is contacted; a well-formed
// address with nothing listening is a failure (exit 1), not bad input.
TEST(BadInput, StatusMetricsAddressMustBeHostAndPort) {
  for (const char* bad : {"127.0.0.1", ":9464", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:http", "127.0.0.1:94x4",
                          "127.0.0.1:", "127.0.0.1:-1"}) {
    auto r = run({armored_binary().string(), "status", "--metrics", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("armored: --metrics"), std::string::npos) << bad << ": " << r.err;
  }
  auto r = run({armored_binary().string(), "status"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("give --config FILE or --metrics HOST:PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace armored::cli
