// `armored fleet` taking commands, as a real process: this test plays the
// gateway (UDP answers, downlink relay to the fleet's address) and the
// cloud's E3 side (real Opener with the enrolled cloud key), and checks every
// reply the devices send and the fleet's own summary.

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <functional>
#include <iostream>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>

#include "command/codec.h"
#include "common/file_io.h"
#include "e3/e3.h"
#include "link/link.h"
#include "provision/registry.h"
#include "support/process.h"

namespace armored::device {
namespace {

using namespace std::chrono_literals;
using asio::ip::udp;
namespace t = armored::testing;

std::int64_t ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class FleetCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto step = [&](std::vector<std::string> a) {
      a.insert(a.begin(), t::armored_binary().string());
      auto r = t::run(a, 120s);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    step({"pki", "init", "--dir", (dir / "pki").string(), "--name", "Fleet Command Test CA"});
    step({"pki", "fleet", "--count", "2", "--prefix", "wearable", "--dir", (dir / "pki").string()});
    step({"enroll", "--pki", (dir / "pki").string(), "--e3", (dir / "e3").string()});
  }

  t::TempDir dir;
};

// Both sealers open commands and seal replies: the device SDK's C library
// is the code firmware runs, and must take commands as the C++ sealer does.
class FleetCommandsBySealer : public FleetCommands, public ::testing::WithParamInterface<std::string> {};

TEST_P(FleetCommandsBySealer, DevicesAnswerEveryCommandSealedAndTheSummaryCountsThem) {
  auto registry = provision::load_registry(dir / "e3");
  ASSERT_TRUE(registry) << registry.error().message;
  auto cloud_key = crypto::EcPrivateKey::from_pem(*read_text_file(provision::cloud_key_path(dir / "e3")));
  ASSERT_TRUE(cloud_key);
  SystemClock clock;
  e3::MemoryStateStore command_store;
  e3::OpenerConfig oc;
  oc.cloud_key_id = registry->cloud_key_id;
  auto opener = e3::Opener::create(oc, *cloud_key, clock, &command_store);
  ASSERT_TRUE(opener);
  std::map<std::string, Bytes> kid_of;
  for (const auto& d : registry->devices) {
    auto key = crypto::EcPrivateKey::from_pem(*read_text_file(dir / "pki" / "device" / (d.device_id + ".key")));
    ASSERT_TRUE(key);
    ASSERT_TRUE(opener->add_device({d.kid, d.device_id, key->public_key().value()}));
    kid_of[d.device_id] = d.kid;
  }

  asio::io_context io;
  udp::socket gw(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  gw.non_blocking(true);
  const int port = gw.local_endpoint().port();
  const auto out = dir / "fleet.out";
  t::Subprocess fleet({t::armored_binary().string(), "--json", "fleet", "--devices", "2", "--interval", "1s",
                       "--duration", "8s", "--gateway", "127.0.0.1:" + std::to_string(port), "--pki",
                       (dir / "pki").string(), "--e3", (dir / "e3").string(), "--state", (dir / "state").string(),
                       "--sealer", GetParam()},
                      {out, dir / "fleet.err", {}, {}, {}});

  udp::endpoint fleet_addr;
  std::map<std::string, bool> epoch_known;
  std::map<std::uint64_t, command::Reply> replies;
  std::uint64_t readings = 0;
  std::map<std::string, int> readings_by_device;
  std::array<std::uint8_t, 2048> rx{}, plain{};
  // Answers and opens everything the fleet sends for `d`, until `done`.
  const auto pump = [&](std::chrono::milliseconds d, const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until && !done()) {
      asio::error_code ec;
      const std::size_t n = gw.receive_from(asio::buffer(rx), fleet_addr, 0, ec);
      if (ec) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      const ByteSpan dg(rx.data(), n);
      auto msg = link::classify_datagram(dg);
      ASSERT_TRUE(msg);
      std::array<std::uint8_t, 64> ans{};
      const std::size_t an = link::write_answer(link::kAckSpooled, msg->header_bytes, ans);
      gw.send_to(asio::buffer(ans.data(), an), fleet_addr, 0, ec);
      if (msg->header.type == e3::MessageType::kAnnouncement) {
        auto acc = opener->accept_announcement(dg);
        ASSERT_TRUE(acc || acc.error().code == e3::E3Errc::kStaleAnnouncement);
        if (acc) epoch_known[std::string(acc->device_id)] = true;
        continue;
      }
      auto opened = opener->open(dg, plain);
      ASSERT_TRUE(opened) << opened.error().message;
      const ByteSpan pt(plain.data(), opened->plaintext_size);
      if (command::classify_uplink(pt) == command::UplinkKind::kReading) {
        ++readings;
        ++readings_by_device[std::string(opened->device_id)];
        continue;
      }
      auto reply = command::decode_reply(pt);
      ASSERT_TRUE(reply) << reply.error().message;
      replies[reply->command_id] = *reply;
    }
  };
  pump(10s, [&] { return epoch_known.size() == 2; });
  ASSERT_EQ(epoch_known.size(), 2u) << t::slurp(dir / "fleet.err");

  const auto send = [&](const std::string& device, std::uint64_t id, std::string name,
                        std::vector<command::Param> params, std::int64_t issued_ms, bool transmit = true) {
    command::Command c{id, std::move(name), std::move(params), issued_ms};
    Bytes env(2048);
    auto n = opener->seal_command(kid_of[device], *command::encode_command(c), env);
    EXPECT_TRUE(n) << n.error().message;
    env.resize(*n);
    asio::error_code ec;
    if (transmit) gw.send_to(asio::buffer(env), fleet_addr, 0, ec);
    return env;
  };
  const std::string first = registry->devices[0].device_id, second = registry->devices[1].device_id;
  const std::int64_t now = ms(clock.now());
  send(first, 1, "set_interval", {{"seconds", command::Value::integer(5)}}, now);
  send(first, 2, "set_interval", {{"seconds", command::Value::integer(1)}}, now);  // out of range
  const Bytes stale = send(second, 3, "get_status", {}, now - 120'000);
  // Replayed and altered by the gateway: E3 refuses both, nothing is answered.
  asio::error_code ec;
  gw.send_to(asio::buffer(stale), fleet_addr, 0, ec);
  Bytes altered = send(second, 4, "reboot", {}, now, /*transmit=*/false);
  altered.back() ^= 1;
  gw.send_to(asio::buffer(altered), fleet_addr, 0, ec);
  for (std::uint64_t id = 10; id < 20; ++id) {
    send(second, id, "set_alert_threshold", {{"bpm", command::Value::integer(100)}}, now);
  }
  pump(15s, [&] { return replies.size() >= 13; });
  ASSERT_EQ(replies.size(), 13u) << t::slurp(dir / "fleet.err");
  const auto said = [&](std::uint64_t id) {
    const auto& r = replies[id];
    return r.outcome == command::Outcome::kAccepted ? std::string("accepted") : command::to_string(r.reason);
  };
  EXPECT_EQ(said(1), "accepted");
  EXPECT_EQ(replies[1].result.at(0).value, command::Value::integer(5));
  EXPECT_EQ(said(2), "out_of_range");
  EXPECT_EQ(said(3), "stale");
  // id 4 was altered: no reply. Of the flood, exactly 6 (the burst) are accepted.
  EXPECT_EQ(replies.count(4), 0u);
  int accepted = 0, limited = 0;
  for (std::uint64_t id = 10; id < 20; ++id) {
    accepted += said(id) == "accepted";
    limited += said(id) == "rate_limited";
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(limited, 4);

  // Keep answering until the fleet finishes on its own. From now on the
  // first device reads every 5 s, the second still every second.
  readings_by_device.clear();
  const auto since = std::chrono::steady_clock::now();
  pump(30s, [&] { return !fleet.running(); });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  std::cout << "[ figures  ] over the last " << secs << " s: " << readings_by_device[first] << " readings at 5 s, "
            << readings_by_device[second] << " at 1 s\n";
  EXPECT_LE(readings_by_device[first], 2);
  EXPECT_GE(readings_by_device[second], readings_by_device[first] + 2);
  auto status = fleet.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << t::slurp(dir / "fleet.err");
  auto summary = nlohmann::json::parse(t::slurp(out));
  const auto& c = summary["commands"];
  EXPECT_EQ(c["received"], 13);
  EXPECT_EQ(c["accepted"], 7);
  EXPECT_EQ(c["refused"], 6);
  EXPECT_EQ(c["unopened"], 2);
  EXPECT_EQ(c["refusal_reasons"]["rate_limited"], 4);
  EXPECT_EQ(c["refusal_reasons"]["out_of_range"], 1);
  EXPECT_EQ(c["refusal_reasons"]["stale"], 1);
  EXPECT_GT(readings, 0u);
  EXPECT_EQ(summary["sealer"], GetParam());
}

INSTANTIATE_TEST_SUITE_P(Sealers, FleetCommandsBySealer, ::testing::Values("cxx", "device-sdk"),
                         [](const auto& p) { return std::string(p.param == "cxx" ? "Cxx" : "DeviceSdk"); });

TEST_F(FleetCommands, UnusableSchemaOrTypeIsABadUsage) {
  ASSERT_TRUE(write_file_atomic(dir / "bad.toml", as_bytes("schema_version = 1\n[w.get]\nrate_per_minute = 0\n")));
  const std::vector<std::string> base = {t::armored_binary().string(), "fleet", "--devices", "1", "--duration", "1s",
                                         "--pki", (dir / "pki").string(), "--e3", (dir / "e3").string(), "--state",
                                         (dir / "state").string()};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return t::run(a, 30s);
  };
  auto bad = with({"--commands", (dir / "bad.toml").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.toml:3: w.get.rate_per_minute is 0"), std::string::npos) << bad.err;
  auto type = with({"--device-type", "toaster"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.err.find("device type 'toaster' is not in the command schema"), std::string::npos) << type.err;
}

}  // namespace
}  // namespace armored::device
