// The device side: freshness, repeated ids, validation again, the rate
// limit (exact numbers), and the actions applied to the simulated device.

#include <gtest/gtest.h>

#include "command/codec.h"
#include "command/processor.h"
#include "command/simulated_device.h"

namespace armored::command {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

struct Device {
  explicit Device(std::string type = "wearable", ProcessorConfig cfg = {})
      : sim(DeviceSettings{}, clock.now(), type), proc(Schema::builtin(), type, sim, cfg) {}

  Bytes wire(std::uint64_t id, std::string name, std::vector<Param> params, std::int64_t issued_ms) {
    Command c;
    c.id = id;
    c.name = std::move(name);
    c.params = std::move(params);
    canonical_sort(c.params);
    c.issued_at_ms = issued_ms;
    return *encode_command(c);
  }
  // A command issued now by the cloud, handled now by the device.
  Reply send(std::string name, std::vector<Param> params = {}) {
    return proc.handle(wire(++next_id, std::move(name), std::move(params), ms(clock.now())), clock.now());
  }

  ManualClock clock;
  SimulatedDevice sim;
  CommandProcessor proc;
  std::uint64_t next_id = 1000;
};

std::string outcome(const Reply& r) {
  return r.outcome == Outcome::kAccepted ? "accepted" : std::string("refused ") + to_string(r.reason);
}

TEST(Processor, AcceptsAndActs) {
  Device d;
  auto r = d.send("set_interval", {{"seconds", Value::integer(60)}});
  EXPECT_EQ(outcome(r), "accepted");
  EXPECT_EQ(r.command_id, d.next_id);
  ASSERT_EQ(r.result.size(), 1u);
  EXPECT_EQ(r.result[0], (Param{"interval_s", Value::integer(60)}));
  EXPECT_EQ(d.sim.settings().interval_s, 60);
  EXPECT_EQ(outcome(d.send("set_alert_threshold", {{"bpm", Value::integer(150)}})), "accepted");
  EXPECT_EQ(d.sim.settings().alert_threshold_bpm, 150);
  EXPECT_EQ(outcome(d.send("set_mode", {{"mode", Value::string("exercise")}})), "accepted");
  EXPECT_EQ(d.sim.settings().mode, "exercise");
  EXPECT_EQ(outcome(d.send("set_label", {{"label", Value::string("$(reboot);%n")}})), "accepted");
  EXPECT_EQ(d.sim.settings().label, "$(reboot);%n");  // inert data
  EXPECT_EQ(outcome(d.send("rotate_keys")), "accepted");
  EXPECT_TRUE(d.sim.pending().rotate_keys);
  EXPECT_EQ(d.sim.settings().key_rotations, 1u);
  EXPECT_EQ(outcome(d.send("reboot", {{"delay_s", Value::integer(5)}})), "accepted");
  EXPECT_TRUE(d.sim.pending().reboot);
  d.clock.advance(seconds(10));
  d.sim.rebooted(d.clock.now());
  EXPECT_FALSE(d.sim.pending().reboot);
  d.clock.advance(seconds(7));
  auto status = d.send("get_status");
  ASSERT_EQ(outcome(status), "accepted");
  const auto field = [&](const char* n) -> Value {
    for (const auto& p : status.result) {
      if (p.name == n) return p.value;
    }
    return Value::string("absent");
  };
  EXPECT_EQ(field("interval_s"), Value::integer(60));
  EXPECT_EQ(field("alert_threshold_bpm"), Value::integer(150));
  EXPECT_EQ(field("mode"), Value::string("exercise"));
  EXPECT_EQ(field("reboots"), Value::integer(1));
  EXPECT_EQ(field("key_rotations"), Value::integer(1));
  EXPECT_EQ(field("uptime_s"), Value::integer(7));
  EXPECT_EQ(d.proc.counters().accepted, 7u);
  EXPECT_EQ(d.proc.counters().refused.total(), 0u);
}

TEST(Processor, ThermostatSetpointAndFan) {
  Device d("thermostat");
  EXPECT_EQ(outcome(d.send("set_temp", {{"degrees", Value::real(22.5)}})), "accepted");
  EXPECT_EQ(d.sim.settings().setpoint_c, 22.5);
  EXPECT_EQ(outcome(d.send("set_fan", {{"on", Value::boolean(true)}})), "accepted");
  EXPECT_TRUE(d.sim.settings().fan_on);
  // A wearable's command is not a thermostat's.
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(60)}})), "refused unknown_command");
}

TEST(Processor, FreshnessWindowBothWays) {
  Device d;  // 60 s window, 5 s future skew
  const std::int64_t now = ms(d.clock.now());
  const auto at = [&](std::uint64_t id, std::int64_t issued) {
    return outcome(d.proc.handle(d.wire(id, "get_status", {}, issued), d.clock.now()));
  };
  EXPECT_EQ(at(1, now - 60'000), "accepted");          // exactly at the edge
  EXPECT_EQ(at(2, now - 60'001), "refused stale");     // one millisecond older
  EXPECT_EQ(at(3, now - 3'600'000), "refused stale");  // delivered an hour late
  EXPECT_EQ(at(4, 0), "refused stale");
  EXPECT_EQ(at(5, now + 5'000), "accepted");
  EXPECT_EQ(at(6, now + 5'001), "refused future");
  EXPECT_EQ(at(7, INT64_MAX), "refused future");
  EXPECT_EQ(d.proc.counters().refused[Reason::kStale], 3u);
  EXPECT_EQ(d.proc.counters().refused[Reason::kFuture], 2u);
}

TEST(Processor, ConfigurableWindow) {
  ProcessorConfig cfg;
  cfg.freshness = milliseconds(1000);
  cfg.max_future_skew = milliseconds(0);
  Device d("wearable", cfg);
  const std::int64_t now = ms(d.clock.now());
  EXPECT_EQ(outcome(d.proc.handle(d.wire(1, "get_status", {}, now - 1001), d.clock.now())), "refused stale");
  EXPECT_EQ(outcome(d.proc.handle(d.wire(2, "get_status", {}, now + 1), d.clock.now())), "refused future");
  EXPECT_EQ(outcome(d.proc.handle(d.wire(3, "get_status", {}, now), d.clock.now())), "accepted");
}

TEST(Processor, RepeatedIdIsRefusedAndChangesNothing) {
  Device d;
  const Bytes cmd = d.wire(77, "set_interval", {{"seconds", Value::integer(90)}}, ms(d.clock.now()));
  EXPECT_EQ(outcome(d.proc.handle(cmd, d.clock.now())), "accepted");
  // The same id again, even with other content (sealed again by the cloud).
  const Bytes again = d.wire(77, "set_interval", {{"seconds", Value::integer(5)}}, ms(d.clock.now()));
  auto r = d.proc.handle(again, d.clock.now());
  EXPECT_EQ(outcome(r), "refused replayed");
  EXPECT_EQ(r.command_id, 77u);
  EXPECT_EQ(d.proc.handle(cmd, d.clock.now()).reason, Reason::kReplayed);
  EXPECT_EQ(d.sim.settings().interval_s, 90);
  EXPECT_EQ(d.proc.counters().refused[Reason::kReplayed], 2u);
}

TEST(Processor, RememberedIdsAreBounded) {
  ProcessorConfig cfg;
  cfg.remembered_ids = 4;
  Device d("wearable", cfg);
  const std::int64_t now = ms(d.clock.now());
  // get_status allows 30 at once: the rate limit stays out of the way.
  for (std::uint64_t id = 1; id <= 5; ++id) {
    EXPECT_EQ(outcome(d.proc.handle(d.wire(id, "get_status", {}, now), d.clock.now())), "accepted");
  }
  EXPECT_EQ(outcome(d.proc.handle(d.wire(5, "get_status", {}, now), d.clock.now())), "refused replayed");
  EXPECT_EQ(outcome(d.proc.handle(d.wire(2, "get_status", {}, now), d.clock.now())), "refused replayed");
  // Id 1 was forgotten (the oldest of five with room for four).
  EXPECT_EQ(outcome(d.proc.handle(d.wire(1, "get_status", {}, now), d.clock.now())), "accepted");
}

TEST(Processor, RateLimitFloodExactNumbersAndTheDeviceKeepsWorking) {
  Device d;  // set_interval: 6 per minute
  int accepted = 0, limited = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = d.send("set_interval", {{"seconds", Value::integer(10 + i)}});
    if (r.outcome == Outcome::kAccepted) ++accepted;
    else if (r.reason == Reason::kRateLimited) ++limited;
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(limited, 94);
  EXPECT_EQ(d.sim.settings().interval_s, 15);  // the sixth accepted value; refused ones changed nothing
  // Other commands have their own buckets: the device keeps answering.
  EXPECT_EQ(outcome(d.send("get_status")), "accepted");
  EXPECT_EQ(outcome(d.send("set_alert_threshold", {{"bpm", Value::integer(100)}})), "accepted");
  // One token every 10 s: 9.999 s is not enough, 10 s is.
  d.clock.advance(milliseconds(9'999));
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(60)}})), "refused rate_limited");
  d.clock.advance(milliseconds(1));
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(60)}})), "accepted");
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(61)}})), "refused rate_limited");
  // A full minute refills to the burst of 6, not more.
  d.clock.advance(seconds(600));
  accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += d.send("set_interval", {{"seconds", Value::integer(30)}}).outcome == Outcome::kAccepted;
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(d.proc.counters().refused[Reason::kRateLimited], 94u + 1 + 1 + 14);
}

TEST(Processor, RateLimitOfOnePerMinute) {
  Device d;
  EXPECT_EQ(outcome(d.send("reboot")), "accepted");
  EXPECT_EQ(outcome(d.send("reboot")), "refused rate_limited");
  d.clock.advance(seconds(59));
  EXPECT_EQ(outcome(d.send("reboot")), "refused rate_limited");
  d.clock.advance(seconds(1));
  EXPECT_EQ(outcome(d.send("reboot")), "accepted");
}

TEST(Processor, InvalidCommandsAreRefusedWithoutSpendingTokens) {
  Device d;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(1)}})), "refused out_of_range");
  }
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::string("60")}})), "refused wrong_type");
  EXPECT_EQ(outcome(d.send("set_interval", {})), "refused missing_parameter");
  EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(60)}, {"extra", Value::integer(1)}})),
            "refused unknown_parameter");
  EXPECT_EQ(outcome(d.send("self_destruct")), "refused unknown_command");
  EXPECT_EQ(outcome(d.send("set_label", {{"label", Value::string(std::string("a\0b", 3))}})), "refused bad_character");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(outcome(d.send("set_interval", {{"seconds", Value::integer(60)}})), "accepted");
  EXPECT_EQ(d.sim.settings().interval_s, 60);
}

TEST(Processor, MalformedPlaintextGetsAReplyWithIdZero) {
  Device d;
  for (const Bytes& junk : {Bytes{}, Bytes{0xd9, 0xd9, 0xf7}, Bytes(52, 0x69), Bytes(2000, 0xa0)}) {
    auto r = d.proc.handle(junk, d.clock.now());
    EXPECT_EQ(outcome(r), "refused malformed");
    EXPECT_EQ(r.command_id, 0u);
  }
  EXPECT_EQ(d.proc.counters().received, 4u);
  EXPECT_EQ(d.proc.counters().refused[Reason::kMalformed], 4u);
  const auto& by = d.proc.counters().decode_errors.by_code;
  EXPECT_EQ(by[static_cast<std::size_t>(CodecErrc::kNotCbor)], 3u);   // empty, bare tag, reading
  EXPECT_EQ(by[static_cast<std::size_t>(CodecErrc::kTooLarge)], 1u);  // 2000 bytes
}

// A declared command the device has no action for.
TEST(Processor, DeclaredButUnsupported) {
  auto schema = Schema::parse("schema_version = 1\n[wearable.self_test]\nrate_per_minute = 2\n", "t.toml");
  ASSERT_TRUE(schema);
  ManualClock clock;
  SimulatedDevice sim(DeviceSettings{}, clock.now());
  CommandProcessor proc(*schema, "wearable", sim);
  Command c;
  c.id = 1;
  c.name = "self_test";
  c.issued_at_ms = ms(clock.now());
  EXPECT_EQ(outcome(proc.handle(*encode_command(c), clock.now())), "refused unsupported");
}

TEST(Processor, RepliesEncodeAndDecode) {
  Device d;
  const Bytes cmd = d.wire(5, "get_status", {}, ms(d.clock.now()));
  const Bytes wire = d.proc.handle_to_wire(cmd, d.clock.now());
  EXPECT_EQ(classify_uplink(wire), UplinkKind::kReply);
  auto r = decode_reply(wire);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_id, 5u);
  EXPECT_EQ(r->outcome, Outcome::kAccepted);
  EXPECT_EQ(r->result.size(), 7u);
}

}  // namespace
}  // namespace armored::command
