// The device SDK on an emulated Cortex-M4 (QEMU mps2-an386, the firmware of
// device-sdk/target built by the device_sdk_target_build test): the section
// 13 example byte for byte, commands sealed by the reference cloud opened
// (and a replay refused) on the device, and an announcement and readings
// sealed on the device stored by the real cloud through the real gateway.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "command/codec.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/rng.h"
#include "e3/e3.h"
#include "pipeline_fixture.h"

namespace armored::sdk_test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;

const fs::path kFirmware = fs::path(ARMORED_SOURCE_DIR) / "build/device-sdk-target/fw_test.elf";
const std::string kTools = std::string(ARMORED_BINARY_DIR) + "/device-sdk/";

bool have(const char* program) {
  return run({"sh", "-c", std::string("command -v ") + program}, 10s).exit_code == 0;
}

// Runs the firmware in `cwd` with a semihosting command line; "key value" lines.
std::multimap<std::string, std::string> run_firmware(const fs::path& cwd, const std::string& args, int* exit_code) {
  auto r = run({"sh", "-c",
                "cd '" + cwd.string() + "' && exec qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none "
                "-semihosting-config enable=on,target=native,arg=fw," + args + " -kernel '" + kFirmware.string() + "' 2>&1"},
               120s);
  *exit_code = r.exit_code;
  std::multimap<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    out.emplace(line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  if (r.exit_code != 0) ADD_FAILURE() << "firmware: " << r.out << r.err;
  return out;
}

class FixedRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), 0x33); }
};

class Qemu : public pipeline_test::PipelineTest {
 protected:
  void SetUp() override {
    if (!have("arm-none-eabi-gcc") || !have("qemu-system-arm")) {
      GTEST_SKIP() << "arm-none-eabi-gcc or qemu-system-arm missing: scripts/install-deps.sh installs them";
    }
    ASSERT_TRUE(fs::exists(kFirmware)) << kFirmware << " not built (device-sdk/target/build.sh)";
  }
};

TEST_F(Qemu, SpecExampleAndReferenceCommandsOnTheCortexM4_Section13) {
  auto tool = run({kTools + "armored_device_spec_commands", "--out", (dir() / "cmds.bin").string(), "--count", "5"}, 30s);
  ASSERT_EQ(tool.exit_code, 0) << tool.err;
  int code = -1;
  auto out = run_firmware(dir(), "arg=kat", &code);
  ASSERT_EQ(code, 0);
  EXPECT_EQ(out.count("kat"), 1u);
  ASSERT_EQ(out.count("command"), 1u);
  EXPECT_EQ(out.find("commands_opened")->second, "5");
  EXPECT_EQ(out.count("replay"), 1u);
  EXPECT_TRUE(out.find("command")->second.starts_with("d9d9f7a5000101070c6c7365745f696e74657276616c") ||
              out.find("command")->second.starts_with("d9d9f7a50001010702"));

  // The device's announcement (signed on the device) and its reply are
  // accepted by the reference cloud.
  ManualClock clock;
  e3::OpenerConfig ocfg;
  ocfg.cloud_key_id = {'c', 'l', 'o', 'u', 'd', '-', '1'};
  auto cloud = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x22)).value();
  auto identity = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x11)).value();
  auto opener = e3::Opener::create(ocfg, cloud, clock, nullptr).value();
  const Bytes kid = {0x4a, 0x7f, 0x01};
  ASSERT_TRUE(opener.add_device({kid, "example-device", identity.public_key().value()}));
  auto acc = opener.accept_announcement(from_hex(out.find("announcement")->second).value());
  ASSERT_TRUE(acc) << acc.error().message;
  Bytes plain(64);
  auto reply = opener.open(from_hex(out.find("reply")->second).value(), plain);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->sequence, 1u);
  auto decoded = command::decode_reply(ByteSpan(plain).first(reply->plaintext_size));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->command_id, 7u);
  EXPECT_EQ(decoded->outcome, command::Outcome::kAccepted);
}

TEST_F(Qemu, ReadingsSealedOnTheCortexM4AreStoredByTheCloud) {
  make_pki(1);
  auto reg = nlohmann::json::parse(slurp(dir() / "e3" / "registry.json"));
  const std::string device = reg["devices"][0]["id"];
  auto prov = run({kTools + "armored_device_provision", "--pki", (dir() / "pki").string(), "--e3",
                   (dir() / "e3").string(), "--device", device, "--out", (dir() / "prov.bin").string()},
                  30s);
  ASSERT_EQ(prov.exit_code, 0) << prov.err;
  constexpr int kReadings = 8;
  int code = -1;
  auto out = run_firmware(dir(), "arg=device,arg=" + std::to_string(kReadings), &code);
  ASSERT_EQ(code, 0);
  std::vector<Bytes> messages;
  for (auto [it, end] = out.equal_range("msg"); it != end; ++it) messages.push_back(from_hex(it->second).value());
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kReadings + 1));
  ASSERT_EQ(messages[0][0] >> 6, 2) << "the announcement comes first";

  auto cloud = start_cloud();
  auto gateway = start_gateway();
  ASSERT_GT(gateway_udp_port_, 0);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(gateway_udp_port_));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // The announcement first, and only once the gateway has spooled it the
  // readings (section 7.2), each until answered 0xC1.
  auto deliver = [&](const Bytes& m) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      ::send(fd, m.data(), m.size(), 0);
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, 500) > 0) {
        std::uint8_t d[1500];
        const ssize_t n = ::recv(fd, d, sizeof d, 0);
        const std::size_t hs = 2 + ((m[0] >> 3) & 7) + 1 + (m[0] & 7);
        if (n == static_cast<ssize_t>(1 + hs) && d[0] == 0xC1 && std::equal(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(hs), d + 1)) {
          return true;
        }
      }
    }
    return false;
  };
  for (const auto& m : messages) ASSERT_TRUE(deliver(m));
  ::close(fd);
  ASSERT_TRUE(wait_for_stored(kReadings));
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings WHERE device = '" + device + "'"), kReadings);
  expect_exactly_once(kReadings);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");
  EXPECT_EQ(gateway->stop(), 0);
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::sdk_test
