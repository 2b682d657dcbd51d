// The whole command path in memory with the real E3 code: the cloud
// validates text and seals with Opener::seal_command, the device opens with
// Sealer::open_command, processes, seals its reply like a reading, and the
// cloud opens it and tells it from a reading. Plus what a gateway in the
// middle can try: replay, alteration, forgery, late delivery.

#include <gtest/gtest.h>

#include "command/codec.h"
#include "command/processor.h"
#include "command/simulated_device.h"
#include "command/validate.h"
#include "e3/e3_fixture.h"

namespace armored::command {
namespace {

using e3::E3Errc;
using e3::testing::kKid;

std::int64_t ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

struct World {
  World() : sim(DeviceSettings{}, pair.clock.now()), proc(Schema::builtin(), "wearable", sim) { pair.rotate(); }

  // Cloud: text -> validated command -> sealed envelope.
  Bytes cloud_send(std::string name, std::vector<std::string> args) {
    auto c = validator.from_text("wearable", name, args);
    EXPECT_TRUE(c) << to_string(c.error());
    c->id = ++next_id;
    c->issued_at_ms = ms(pair.clock.now());
    auto pt = encode_command(*c);
    EXPECT_TRUE(pt);
    Bytes env(2048);
    auto n = pair.opener->seal_command(kKid, *pt, env);
    EXPECT_TRUE(n) << n.error().message;
    env.resize(*n);
    return env;
  }

  // Device: envelope -> reply envelope, or the E3 error that stopped it.
  e3::E3Result<Bytes> device_receive(ByteSpan env) {
    Bytes pt(env.size());
    auto opened = pair.sealer->open_command(env, pt);
    if (!opened) return unexpected(opened.error());
    pt.resize(opened->plaintext_size);
    const Bytes reply = proc.handle_to_wire(pt, pair.clock.now());
    return pair.seal(reply);
  }

  // Cloud: an uplink envelope -> the decoded reply.
  Reply cloud_receive(ByteSpan env) {
    auto r = pair.open(env);
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_EQ(classify_uplink(pair.plain), UplinkKind::kReply);
    auto reply = decode_reply(pair.plain);
    EXPECT_TRUE(reply) << reply.error().message;
    return *reply;
  }

  e3::testing::Pair pair;
  Validator validator{Schema::builtin()};
  SimulatedDevice sim;
  CommandProcessor proc;
  std::uint64_t next_id = 0;
};

TEST(SealedCommand, AcceptedEndToEnd) {
  World w;
  const Bytes env = w.cloud_send("set_interval", {"seconds=120"});
  auto up = w.device_receive(env);
  ASSERT_TRUE(up) << up.error().message;
  Reply r = w.cloud_receive(*up);
  EXPECT_EQ(r.command_id, 1u);
  EXPECT_EQ(r.outcome, Outcome::kAccepted);
  EXPECT_EQ(r.result, (std::vector<Param>{{"interval_s", Value::integer(120)}}));
  EXPECT_EQ(w.sim.settings().interval_s, 120);
  // A reading sealed next by the same device is still a reading.
  Bytes reading(52, 0x69);
  ASSERT_TRUE(w.pair.open(w.pair.seal(reading)));
  EXPECT_EQ(classify_uplink(w.pair.plain), UplinkKind::kReading);
}

TEST(SealedCommand, RefusalTravelsBackWithItsReason) {
  World w;
  Command c;
  c.id = 9;
  c.name = "set_interval";
  c.params = {{"seconds", Value::integer(99999)}};  // bypasses the cloud's check: the device checks again
  c.issued_at_ms = ms(w.pair.clock.now());
  Bytes env(2048);
  auto n = w.pair.opener->seal_command(kKid, *encode_command(c), env);
  ASSERT_TRUE(n);
  env.resize(*n);
  auto up = w.device_receive(env);
  ASSERT_TRUE(up);
  Reply r = w.cloud_receive(*up);
  EXPECT_EQ(r.command_id, 9u);
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.reason, Reason::kOutOfRange);
  EXPECT_EQ(w.sim.settings().interval_s, 30);
}

TEST(SealedCommand, ReplayedByTheGatewayIsStoppedByE3) {
  World w;
  const Bytes env = w.cloud_send("set_alert_threshold", {"bpm=150"});
  ASSERT_TRUE(w.device_receive(env));
  auto again = w.device_receive(env);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, E3Errc::kReplayed);
  EXPECT_EQ(w.proc.counters().received, 1u);
}

TEST(SealedCommand, AlteredOrForgedByTheGatewayDoesNotOpen) {
  World w;
  const Bytes env = w.cloud_send("set_interval", {"seconds=60"});
  // Every single-bit change after the header: the tag no longer verifies.
  for (std::size_t i = 5; i < env.size(); ++i) {
    Bytes altered = env;
    altered[i] ^= 0x01;
    auto r = w.device_receive(altered);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error().code, E3Errc::kAuthFailed) << i;
  }
  // A command the gateway made up, under a header it copied.
  Command forged;
  forged.id = 666;
  forged.name = "reboot";
  forged.issued_at_ms = ms(w.pair.clock.now());
  Bytes fake = env;
  const Bytes pt = *encode_command(forged);
  fake.resize(5);
  fake.insert(fake.end(), pt.begin(), pt.end());
  fake.resize(fake.size() + 16, 0);
  auto r = w.device_receive(fake);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E3Errc::kAuthFailed);
  EXPECT_EQ(w.proc.counters().received, 0u);
  // The genuine one still works afterwards: a refused envelope changes no state.
  ASSERT_TRUE(w.device_receive(env));
  EXPECT_EQ(w.sim.settings().interval_s, 60);
  EXPECT_FALSE(w.sim.pending().reboot);
}

TEST(SealedCommand, DeliveredLateIsRefusedStale) {
  World w;
  const Bytes env = w.cloud_send("set_interval", {"seconds=300"});
  w.pair.clock.advance(std::chrono::seconds(61));  // the gateway held it back
  auto up = w.device_receive(env);
  ASSERT_TRUE(up);
  Reply r = w.cloud_receive(*up);
  EXPECT_EQ(r.outcome, Outcome::kRefused);
  EXPECT_EQ(r.reason, Reason::kStale);
  EXPECT_EQ(w.sim.settings().interval_s, 30);
}

TEST(SealedCommand, FloodOfValidCommandsRateLimitedDeviceKeepsWorking) {
  World w;
  int accepted = 0, limited = 0;
  for (int i = 0; i < 50; ++i) {
    auto up = w.device_receive(w.cloud_send("set_alert_threshold", {"bpm=" + std::to_string(60 + i)}));
    ASSERT_TRUE(up);
    Reply r = w.cloud_receive(*up);
    accepted += r.outcome == Outcome::kAccepted;
    limited += r.outcome == Outcome::kRefused && r.reason == Reason::kRateLimited;
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(limited, 44);
  EXPECT_EQ(w.sim.settings().alert_threshold_bpm, 65);
  auto up = w.device_receive(w.cloud_send("get_status", {}));
  ASSERT_TRUE(up);
  EXPECT_EQ(w.cloud_receive(*up).outcome, Outcome::kAccepted);
}

}  // namespace
}  // namespace armored::command
