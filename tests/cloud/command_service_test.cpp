// CommandService with a real E3 sealer/opener pair and a real SQLite store:
// what the cloud publishes opens on the device as the validated command;
// refusals are stored and audited; replies and expiry set the status.

#include "cloud/command_service.h"

#include <gtest/gtest.h>

#include "command/codec.h"
#include "common/rng.h"
#include "crypto/ec.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

using nlohmann::json;
const Bytes kKid = {0x0a, 0x0b, 0x0c};
const Bytes kCloudKeyId = {1, 2, 3, 4, 5, 6, 7, 8};

struct Rig {
  Rig()
      : identity(crypto::EcPrivateKey::generate().value()),
        cloud_key(crypto::EcPrivateKey::generate().value()),
        sealer(make_sealer()),
        opener(make_opener()),
        store(store::open_sqlite(tmp / "cloud.db").value()),
        service(command::Schema::builtin(), opener, *store, clock, config(), {{"wearable-0001", kKid}},
                [this](std::string_view gw, ByteSpan p) {
                  if (!gateway_up) return false;
                  published.emplace_back(std::string(gw), Bytes(p.begin(), p.end()));
                  return true;
                }) {
    clock.set(Clock::TimePoint(std::chrono::seconds(1'800'000'000)));
    auto ann = sealer.start_epoch().value();
    EXPECT_TRUE(opener.accept_announcement(ann));
  }
  static AdminConfig config() {
    AdminConfig c;
    c.ack_timeout = std::chrono::seconds(30);
    return c;
  }
  e3::Sealer make_sealer() {
    e3::SealerConfig c;
    c.kid = kKid;
    c.cloud_key_id = kCloudKeyId;
    return e3::Sealer::create(c, identity, cloud_key.public_key().value(), clock, rng, device_store).value();
  }
  e3::Opener make_opener() {
    e3::OpenerConfig c;
    c.cloud_key_id = kCloudKeyId;
    auto o = e3::Opener::create(c, cloud_key, clock, &cloud_state).value();
    EXPECT_TRUE(o.add_device({kKid, "wearable-0001", identity.public_key().value()}));
    return o;
  }
  json send(const std::string& name, json params) {
    AdminRequest r;
    r.op = AdminRequest::Op::kSend;
    r.device = "wearable-0001";
    r.command = name;
    r.params = std::move(params);
    return service.handle(r);
  }
  std::vector<store::Command> commands() { return store->commands_for("wearable-0001", std::nullopt).value(); }
  // A reply as the cloud takes it: matched here, and stored (which settles
  // its command) in the batch the storage thread commits.
  void reply(const OpenedReply& r, std::string_view gateway) {
    service.on_reply(r, gateway);
    ASSERT_TRUE(store->store_batch({}, {}, std::vector{reply_row(r, unix_ms(clock.now()))}));
  }
  std::uint64_t audited() { return store->count_events(store::EventKind::kCommandRefused).value(); }
  // The device's view of the newest published command.
  command::Command opened_on_device() {
    Bytes plain(1024);
    auto o = sealer.open_command(published.back().second, plain);
    EXPECT_TRUE(o.has_value());
    plain.resize(o ? o->plaintext_size : 0);
    return command::decode_command(plain).value();
  }

  armored::testing::TempDir tmp;
  ManualClock clock;
  SeededRng rng{11};
  e3::MemoryStateStore device_store, cloud_state;
  crypto::EcPrivateKey identity, cloud_key;
  e3::Sealer sealer;
  e3::Opener opener;
  std::unique_ptr<store::Store> store;
  bool gateway_up = true;
  std::vector<std::pair<std::string, Bytes>> published;
  CommandService service;
};

TEST(CommandFromJson, TypesMapOneToOne) {
  auto c = command_from_json("x", json{{"b", true}, {"i", -5}, {"f", 2.5}, {"s", "t"}, {"u", 7u}});
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->params.size(), 5u);
  EXPECT_EQ(c->find("b")->kind, command::Value::Kind::kBool);
  EXPECT_EQ(c->find("i")->i, -5);
  EXPECT_EQ(c->find("f")->kind, command::Value::Kind::kFloat);
  EXPECT_EQ(c->find("s")->text, "t");
  EXPECT_EQ(c->find("u")->i, 7);
  auto big = command_from_json("x", json{{"n", 18446744073709551615u}});
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().reason, command::Reason::kOutOfRange);
}

TEST(CommandService, NoRouteUntilTheDeviceIsSeen) {
  Rig rig;
  auto r = rig.send("set_interval", {{"seconds", 60}});
  EXPECT_EQ(r["error"], "no_route");
  EXPECT_TRUE(rig.published.empty());
}

TEST(CommandService, SentCommandOpensOnTheDeviceAsValidated) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  auto r = rig.send("set_interval", {{"seconds", 60}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["gateway"], "gw7");
  ASSERT_EQ(rig.published.size(), 1u);
  EXPECT_EQ(rig.published[0].first, "gw7");
  auto c = rig.opened_on_device();
  EXPECT_EQ(c.id, r["id"].get<std::uint64_t>());
  EXPECT_EQ(c.name, "set_interval");
  ASSERT_NE(c.find("seconds"), nullptr);
  EXPECT_EQ(c.find("seconds")->i, 60);
  EXPECT_EQ(c.issued_at_ms, 1'800'000'000'000);
  auto rows = rig.commands();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, store::CommandStatus::kSent);
  EXPECT_EQ(rows[0].params, R"({"seconds":60})");
  // The command sequence reservation was persisted before the seal.
  EXPECT_GE(rig.cloud_state.saves(), 1u);
  EXPECT_EQ(rig.service.outstanding(), 1u);
}

TEST(CommandService, CloudRefusalsAreStoredAndAudited) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  struct Case {
    const char* name;
    json params;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"format_disk", json::object(), "unknown_command"},
      {"set_interval", {{"seconds", 4}}, "out_of_range"},
      {"set_interval", {{"seconds", 3601}}, "out_of_range"},
      {"set_interval", {{"seconds", "60"}}, "wrong_type"},
      {"set_interval", {{"seconds", 60.0}}, "wrong_type"},
      {"set_interval", json::object(), "missing_parameter"},
      {"set_interval", {{"seconds", 60}, {"extra", 1}}, "unknown_parameter"},
      {"set_label", {{"label", "a\nb"}}, "bad_character"},
      {"set_label", {{"label", "%s%n{}"}}, ""},  // format specifiers are inert data: accepted
  };
  std::uint64_t refusals = 0;
  for (const auto& c : cases) {
    auto r = rig.send(c.name, c.params);
    if (std::string(c.reason).empty()) {
      EXPECT_EQ(r["ok"], true) << c.name << " " << r.dump();
      continue;
    }
    ++refusals;
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["error"], "invalid_command") << r.dump();
    EXPECT_EQ(r["reason"], c.reason) << c.name << " " << c.params.dump() << " " << r.dump();
  }
  EXPECT_EQ(rig.published.size(), 1u);  // only the accepted label
  EXPECT_EQ(rig.audited(), refusals);
  EXPECT_EQ(rig.service.counters().refused_by_cloud, refusals);
  auto rows = rig.commands();
  ASSERT_EQ(rows.size(), cases.size());
  EXPECT_EQ(rows[0].status, store::CommandStatus::kFailed);
  EXPECT_EQ(rows[0].reason.rfind("cloud: unknown_command", 0), 0u) << rows[0].reason;
  auto events = rig.store->recent_events(20).value();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().reason, "unknown_command");
  EXPECT_EQ(events.back().peer, "cloud");
}

TEST(CommandService, RepliesAcknowledgeOrFailAndAreMatchedByDevice) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  const auto a = rig.send("set_interval", {{"seconds", 60}})["id"].get<std::uint64_t>();
  const auto b = rig.send("set_alert_threshold", {{"bpm", 150}})["id"].get<std::uint64_t>();
  command::Reply ok;
  ok.command_id = a;
  ok.outcome = command::Outcome::kAccepted;
  ok.result = {{"interval_s", command::Value::integer(60)}};
  // Another device answering for this device's command is not a match.
  rig.reply({"wearable-0002", 1, 5, ok}, "gw7");
  EXPECT_EQ(rig.service.counters().unmatched_replies, 1u);
  rig.reply({"wearable-0001", 1, 5, ok}, "gw7");
  command::Reply no;
  no.command_id = b;
  no.outcome = command::Outcome::kRefused;
  no.reason = command::Reason::kRateLimited;
  rig.reply({"wearable-0001", 1, 6, no}, "gw7");
  auto rows = rig.commands();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, store::CommandStatus::kAcknowledged);
  EXPECT_EQ(rows[0].reason, R"({"interval_s":60})");
  EXPECT_EQ(rows[1].status, store::CommandStatus::kFailed);
  EXPECT_EQ(rows[1].reason, "device: rate_limited");
  EXPECT_EQ(rig.audited(), 1u);
  // The same reply again (replayed by someone) matches nothing any more.
  rig.reply({"wearable-0001", 1, 5, ok}, "gw7");
  EXPECT_EQ(rig.service.counters().acknowledged, 1u);
  EXPECT_EQ(rig.service.counters().unmatched_replies, 2u);
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kAcknowledged) << "and changes nothing stored";
}

// A reply opened by another process (a worker of the scaled cloud, while
// the front that sent the command is gone or never hears of it) settles the
// command through the store alone; this front's expiry then leaves it be.
// A copy of the reply, or a reply to a settled command, changes nothing.
TEST(CommandService, AReplyStoredElsewhereSettlesTheCommandAndExpiryLeavesIt) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  const auto a = rig.send("set_interval", {{"seconds", 60}})["id"].get<std::uint64_t>();
  command::Reply ok;
  ok.command_id = a;
  ok.outcome = command::Outcome::kAccepted;
  const OpenedReply opened{"wearable-0001", 1, 9, ok};
  auto r = rig.store->store_batch({}, {}, std::vector{reply_row(opened, 1000)});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->replies, 1u);
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kAcknowledged);
  rig.clock.advance(std::chrono::seconds(31));
  rig.service.expire_due();
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kAcknowledged);
  EXPECT_EQ(rig.service.counters().expired, 0u);
  EXPECT_EQ(rig.service.outstanding(), 0u);
  command::Reply no = ok;
  no.outcome = command::Outcome::kRefused;
  no.reason = command::Reason::kRateLimited;
  r = rig.store->store_batch({}, {}, std::vector{reply_row({"wearable-0001", 1, 9, no}, 2000)});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->replies, 0u) << "the same (device, epoch, seq): a copy";
  r = rig.store->store_batch({}, {}, std::vector{reply_row({"wearable-0001", 1, 10, no}, 2000)});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->replies, 1u);
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kAcknowledged) << "settled once";
  EXPECT_EQ(rig.commands()[0].reason, "");
}

TEST(CommandService, UnansweredCommandsExpire) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  rig.send("get_status", json::object());
  rig.clock.advance(std::chrono::seconds(29));
  rig.service.expire_due();
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kSent);
  rig.clock.advance(std::chrono::seconds(1));
  rig.service.expire_due();
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kExpired);
  EXPECT_EQ(rig.service.outstanding(), 0u);
}

// A command another process sent (a front of a scaled cloud that died
// before it heard the answer or expired it) is expired by any other once it
// is twice the timeout old, never sooner: the sender has the first say.
TEST(CommandService, CommandsLeftByAProcessThatIsGoneExpireAtTwiceTheTimeout) {
  Rig rig;
  store::Command c;
  c.device = "wearable-0001";
  c.command = "get_status";
  c.params = "{}";
  c.created_at_ms = unix_ms(rig.clock.now());
  const auto id = rig.store->add_command(c).value();
  ASSERT_TRUE(rig.store->set_command_status(id, store::CommandStatus::kSent, "", unix_ms(rig.clock.now())));
  rig.clock.advance(std::chrono::seconds(59));
  rig.service.expire_due();
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kSent);
  rig.clock.advance(std::chrono::seconds(11));
  rig.service.expire_due();
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kExpired);
  EXPECT_NE(rig.commands()[0].reason.find("gone"), std::string::npos) << rig.commands()[0].reason;
  EXPECT_EQ(rig.service.counters().expired, 1u);
}

TEST(CommandService, GatewayNotSubscribedFailsTheCommand) {
  Rig rig;
  rig.service.saw_device("wearable-0001", "gw7");
  rig.gateway_up = false;
  auto r = rig.send("get_status", json::object());
  EXPECT_EQ(r["error"], "no_route");
  EXPECT_EQ(rig.commands()[0].status, store::CommandStatus::kFailed);
}

TEST(CommandService, UnknownDevice) {
  Rig rig;
  AdminRequest r;
  r.op = AdminRequest::Op::kStatus;
  r.device = "wearable-9999";
  EXPECT_EQ(rig.service.handle(r)["error"], "unknown_device");
}

}  // namespace
}  // namespace armored::cloud
