// The simulated device's command endpoint with real E3 on both sides:
// replies come back sealed, rotate_keys starts an epoch the cloud accepts,
// and envelopes that do not open change nothing.

#include <gtest/gtest.h>

#include "command/codec.h"
#include "device/internal/command_endpoint.h"
#include "e3/e3_fixture.h"

namespace armored::device {
namespace {

using e3::testing::kKid;

std::int64_t ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

struct World {
  World() : endpoint(command::Schema::builtin(), "wearable", {}, pair.clock.now()) { pair.rotate(); }

  Bytes seal(std::uint64_t id, std::string name, std::vector<command::Param> params = {}) {
    command::Command c;
    c.id = id;
    c.name = std::move(name);
    c.params = std::move(params);
    c.issued_at_ms = ms(pair.clock.now());
    Bytes env(2048);
    auto n = pair.opener->seal_command(kKid, *command::encode_command(c), env);
    EXPECT_TRUE(n) << n.error().message;
    env.resize(*n);
    return env;
  }
  command::Reply open_reply(ByteSpan env) {
    auto r = pair.open(env);
    EXPECT_TRUE(r) << r.error().message;
    auto reply = command::decode_reply(pair.plain);
    EXPECT_TRUE(reply);
    return *reply;
  }

  e3::testing::Pair pair;
  CxxSealer device{*pair.sealer};
  CommandEndpoint endpoint;
};

TEST(CommandEndpoint, SetIntervalRepliesSealed) {
  World w;
  auto h = w.endpoint.handle(w.device, w.seal(1, "set_interval", {{"seconds", command::Value::integer(10)}}),
                             w.pair.clock.now());
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->uplink.size(), 1u);
  EXPECT_FALSE(h->started_epoch);
  EXPECT_EQ(w.open_reply(h->uplink[0]), h->reply);
  EXPECT_EQ(h->reply.outcome, command::Outcome::kAccepted);
  EXPECT_EQ(w.endpoint.device().settings().interval_s, 10);
}

TEST(CommandEndpoint, RotateKeysSendsTheReplyThenANewEpoch) {
  World w;
  const std::uint32_t before = w.pair.sealer->epoch();
  auto h = w.endpoint.handle(w.device, w.seal(1, "rotate_keys"), w.pair.clock.now());
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->uplink.size(), 2u);
  EXPECT_TRUE(h->started_epoch);
  EXPECT_EQ(w.pair.sealer->epoch(), before + 1);
  // The reply was sealed in the old epoch, which the cloud still opens.
  EXPECT_EQ(w.open_reply(h->uplink[0]).outcome, command::Outcome::kAccepted);
  auto acc = w.pair.opener->accept_announcement(h->uplink[1]);
  ASSERT_TRUE(acc) << acc.error().message;
  EXPECT_EQ(acc->epoch, before + 1);
  // Commands now travel in the new epoch.
  auto next = w.endpoint.handle(w.device, w.seal(2, "get_status"), w.pair.clock.now());
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->reply.outcome, command::Outcome::kAccepted);
}

TEST(CommandEndpoint, RebootRestartsTheSimulatedDevice) {
  World w;
  auto h = w.endpoint.handle(w.device, w.seal(1, "reboot"), w.pair.clock.now());
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->rebooted);
  EXPECT_EQ(w.endpoint.device().settings().reboots, 1u);
}

TEST(CommandEndpoint, EnvelopesThatDoNotOpenChangeNothing) {
  World w;
  Bytes env = w.seal(1, "set_interval", {{"seconds", command::Value::integer(10)}});
  Bytes altered = env;
  altered.back() ^= 0x80;
  auto h = w.endpoint.handle(w.device, altered, w.pair.clock.now());
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, e3::E3Errc::kAuthFailed);
  // A reading is not a command.
  auto reading = w.endpoint.handle(w.device, w.pair.seal(Bytes(52, 0x69)), w.pair.clock.now());
  ASSERT_FALSE(reading);
  EXPECT_EQ(reading.error().code, e3::E3Errc::kMalformed);
  EXPECT_EQ(w.endpoint.counters().received, 0u);
  EXPECT_EQ(w.endpoint.device().settings().interval_s, 30);
  ASSERT_TRUE(w.endpoint.handle(w.device, env, w.pair.clock.now()));
  auto replay = w.endpoint.handle(w.device, env, w.pair.clock.now());
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, e3::E3Errc::kReplayed);
  EXPECT_EQ(w.endpoint.counters().received, 1u);
}

}  // namespace
}  // namespace armored::device
