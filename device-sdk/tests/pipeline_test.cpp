// The C library's announcement and readings through the real `armored
// gateway` (UDP, section 9.1) into the real `armored cloud`, which stores
// them: provisioning from `armored pki` + `armored enroll` via
// armored_device_provision, then the library's outbox and answer handling
// on a real socket, with both crypto backends.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "../examples/sample_reading.h"
#include "pipeline_fixture.h"
#include "sdk_support.h"

namespace armored::sdk_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;

struct UdpBoard {
  int fd = -1;
  armored_platform platform{};
  UdpBoard(int port) {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    platform.user = this;
    platform.now = [](void*) { return static_cast<std::int64_t>(std::time(nullptr)); };
    platform.store = [](void* u, const std::uint8_t* s, std::size_t len) {
      static_cast<UdpBoard*>(u)->state.assign(s, s + len);
      return 0;
    };
    platform.send = [](void* u, const std::uint8_t* d, std::size_t len) {
      return ::send(static_cast<UdpBoard*>(u)->fd, d, len, 0) == static_cast<ssize_t>(len) ? 0 : -1;
    };
  }
  ~UdpBoard() { ::close(fd); }
  // One datagram within `ms`, or empty.
  Buf receive(int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return {};
    Buf d(1500);
    const ssize_t n = ::recv(fd, d.data(), d.size(), 0);
    d.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return d;
  }
  Buf state;
};

class DevicePipeline : public pipeline_test::PipelineTest, public ::testing::WithParamInterface<Backend> {};

TEST_P(DevicePipeline, AnnouncementAndReadingsAreStoredByTheCloud) {
  make_pki(1);
  auto reg = nlohmann::json::parse(slurp(dir() / "e3" / "registry.json"));
  const std::string device = reg["devices"][0]["id"];
  const auto rec_path = dir() / "device.prov";
  auto r = run({std::string(ARMORED_BINARY_DIR) + "/device-sdk/armored_device_provision", "--pki",
                (dir() / "pki").string(), "--e3", (dir() / "e3").string(), "--device", device, "--out",
                rec_path.string()},
               30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string rec = slurp(rec_path);
  armored_provisioning prov;
  ASSERT_EQ(armored_provisioning_parse(reinterpret_cast<const std::uint8_t*>(rec.data()), rec.size(), &prov),
            ARMORED_OK);
  ASSERT_TRUE(prov.has_identity_scalar);

  auto cloud = start_cloud();
  auto gateway = start_gateway();
  ASSERT_GT(gateway_udp_port_, 0);

  Crypto c(GetParam(), Buf(prov.identity_scalar, prov.identity_scalar + 32), nullptr);
  ASSERT_TRUE(c.ok);
  UdpBoard board(gateway_udp_port_);
  armored_config cfg{};
  cfg.kid = prov.kid;
  cfg.kid_len = prov.kid_len;
  cfg.cloud_key_id = prov.cloud_key_id;
  cfg.cloud_key_id_len = prov.cloud_key_id_len;
  cfg.cloud_public_key = prov.cloud_public_key;
  cfg.alg = ARMORED_CHACHA20_POLY1305;
  armored_ctx ctx;
  ASSERT_EQ(armored_init(&ctx, &cfg, &c.crypto, &board.platform, nullptr, 0), ARMORED_OK);
  armored_outbox_slot slots[16];
  armored_outbox ob;
  armored_outbox_init(&ob, slots, 16, 1);

  // Pumps answers until nothing is outstanding (false on timeout).
  auto drain = [&](std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (armored_outbox_pending(&ob) > 0 && std::chrono::steady_clock::now() < deadline) {
      Buf d = board.receive(200);
      armored_event ev;
      if (!d.empty()) {
        EXPECT_EQ(armored_receive(&ctx, &ob, d.data(), d.size(), nullptr, 0, &ev), ARMORED_OK);
      }
      armored_outbox_poll(&ob, &ctx);
    }
    return armored_outbox_pending(&ob) == 0;
  };

  // The readings of an epoch wait until its announcement is spooled (section 7.2).
  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
  std::size_t ann_len = 0;
  ASSERT_EQ(armored_start_epoch(&ctx, ann, sizeof ann, &ann_len), ARMORED_OK);
  ASSERT_EQ(armored_outbox_send(&ob, &ctx, ann, ann_len), ARMORED_OK);
  ASSERT_TRUE(drain(20s)) << "the gateway did not answer the announcement";

  constexpr int kReadings = 12;
  for (int i = 0; i < kReadings; ++i) {
    std::uint8_t pt[ARMORED_READING_SIZE], env[ARMORED_SEALED_MAX(ARMORED_READING_SIZE)];
    const armored_reading reading = armored_sample_reading(static_cast<std::uint32_t>(std::time(nullptr)), i);
    armored_reading_encode(&reading, pt);
    std::size_t len = 0;
    ASSERT_EQ(armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len), ARMORED_OK);
    ASSERT_EQ(armored_outbox_send(&ob, &ctx, env, len), ARMORED_OK);
  }
  ASSERT_TRUE(drain(20s)) << "readings left unanswered";
  EXPECT_EQ(ob.malformed_answers, 0u);
  EXPECT_GE(ob.spooled, static_cast<std::uint32_t>(kReadings + 1));

  ASSERT_TRUE(wait_for_stored(kReadings));
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings WHERE device = '" + device + "'"), kReadings);
  expect_exactly_once(kReadings);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");
  EXPECT_EQ(gateway->stop(), 0);
  stop_cloud(cloud);
}

INSTANTIATE_TEST_SUITE_P(Backends, DevicePipeline, ::testing::Values(Backend::kOpenssl, Backend::kPsa),
                         [](const auto& i) { return std::string(backend_name(i.param)); });

}  // namespace
}  // namespace armored::sdk_test
