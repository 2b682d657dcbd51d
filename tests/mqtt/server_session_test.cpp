// ServerSession: the declared transitions, every undeclared one, keep-alive
// and application-controlled PUBACK. The client side is scripted bytes, then
// a real ClientSession talks to a ServerSession in memory.
#include "mqtt/server_session.h"

#include "mqtt/client_session.h"
#include "test_util.h"

namespace armored::mqtt {
namespace {

using test::encode_bytes;
using test::hex;
using test::secs;
using Kind = ServerEvent::Kind;

const char* kConnect = "10 10 0004 4d515454 04 02 000a 0004 67772d31";  // "gw-1", keep alive 10 s

Bytes drain(ServerSession& s) {
  Bytes b(s.pending_output().begin(), s.pending_output().end());
  s.consume_output(b.size());
  return b;
}

ServerSession connected(ServerOptions o = {}) {
  ServerSession s(std::move(o), secs(0));
  auto ev = s.receive(hex(kConnect), secs(0));
  EXPECT_EQ(ev.size(), 1u);
  EXPECT_EQ(drain(s), hex("20 02 00 00"));
  return s;
}

ErrorCode closed_with(std::span<const ServerEvent> ev) {
  if (ev.empty() || ev.back().kind != Kind::kClosed || !ev.back().error) return ErrorCode::kCount;
  return ev.back().error->code;
}

TEST(MqttServerSession, ConnectIsAcceptedWithConnAck) {
  ServerSession s({}, secs(0));
  EXPECT_EQ(s.state(), ServerState::kAwaitConnect);
  auto ev = s.receive(hex(kConnect), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kConnected);
  EXPECT_EQ(s.client_id(), "gw-1");
  EXPECT_EQ(s.keep_alive_s(), 10);
  EXPECT_EQ(s.state(), ServerState::kConnected);
  EXPECT_EQ(drain(s), hex("20 02 00 00"));  // session present 0: no stored sessions
}

TEST(MqttServerSession, FirstPacketMustBeConnect_MQTT_3_1_0_1) {
  for (const char* wire : {"30 03 0001 74", "c0 00", "82 06 0001 0001 61 00", "e0 00"}) {
    ServerSession s({}, secs(0));
    EXPECT_EQ(closed_with(s.receive(hex(wire), secs(1))), ErrorCode::kUnexpectedPacket) << wire;
    EXPECT_TRUE(drain(s).empty()) << wire;  // closed without a CONNACK
  }
}

TEST(MqttServerSession, SecondConnectIsAProtocolViolation_MQTT_3_1_0_2) {
  ServerSession s = connected();
  EXPECT_EQ(closed_with(s.receive(hex(kConnect), secs(1))), ErrorCode::kSecondConnect);
  EXPECT_EQ(s.state(), ServerState::kClosed);
  EXPECT_EQ(s.counters().count(ErrorCode::kSecondConnect), 1u);
}

TEST(MqttServerSession, UnsupportedProtocolLevelGetsConnAck1_MQTT_3_1_2_2) {
  ServerSession s({}, secs(0));
  EXPECT_EQ(closed_with(s.receive(hex("10 0d 0004 4d515454 05 02 003c 0001 61"), secs(0))),
            ErrorCode::kUnsupportedProtocolLevel);
  EXPECT_EQ(drain(s), hex("20 02 00 01"));
}

TEST(MqttServerSession, EmptyClientIdWithoutCleanSessionGetsConnAck2_MQTT_3_1_3_8) {
  ServerSession s({}, secs(0));
  EXPECT_EQ(closed_with(s.receive(hex("10 0c 0004 4d515454 04 00 003c 0000"), secs(0))),
            ErrorCode::kInvalidClientId);
  EXPECT_EQ(drain(s), hex("20 02 00 02"));
}

TEST(MqttServerSession, EmptyClientIdWithCleanSessionIsAccepted_MQTT_3_1_3_6) {
  ServerSession s({}, secs(0));
  auto ev = s.receive(hex("10 0c 0004 4d515454 04 02 003c 0000"), secs(0));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kConnected);
}

TEST(MqttServerSession, OverlongClientIdGetsConnAck2_MQTT_3_1_3_9) {
  ServerOptions o;
  o.limits.max_client_id_length = 3;
  ServerSession s(std::move(o), secs(0));
  EXPECT_EQ(closed_with(s.receive(hex(kConnect), secs(0))), ErrorCode::kInvalidClientId);
  EXPECT_EQ(drain(s), hex("20 02 00 02"));
}

TEST(MqttServerSession, PolicyRefusalSendsItsCodeAndIgnoresLaterData_MQTT_3_1_4_5) {
  ServerOptions o;
  o.authorize_connect = [](const Connect& c) {
    return c.client_id == "gw-1" ? ConnectReturnCode::kNotAuthorized : ConnectReturnCode::kAccepted;
  };
  ServerSession s(std::move(o), secs(0));
  Bytes wire = hex(kConnect);
  Bytes pub = hex("30 03 0001 74");
  wire.insert(wire.end(), pub.begin(), pub.end());
  auto ev = s.receive(wire, secs(0));
  ASSERT_EQ(ev.size(), 1u);  // only the close: the PUBLISH after the CONNECT is not processed
  EXPECT_EQ(ev[0].error->code, ErrorCode::kConnectionRefused);
  EXPECT_EQ(drain(s), hex("20 02 00 05"));
}

TEST(MqttServerSession, MalformedPacketClosesWithoutReply_MQTT_4_8_0_1) {
  ServerSession s = connected();
  EXPECT_EQ(closed_with(s.receive(hex("30 04 0002 612b"), secs(1))), ErrorCode::kInvalidTopicName);
  EXPECT_TRUE(drain(s).empty());
  EXPECT_EQ(s.counters().count(ErrorCode::kInvalidTopicName), 1u);
  EXPECT_TRUE(s.receive(hex("c0 00"), secs(1)).empty());  // closed: input ignored
}

TEST(MqttServerSession, ClientBoundPacketsFromAClientAreRejected) {
  for (const char* wire : {"20 02 00 00", "90 03 0001 00", "b0 02 0001", "d0 00"}) {
    ServerSession s = connected();
    EXPECT_EQ(closed_with(s.receive(hex(wire), secs(1))), ErrorCode::kUnexpectedPacket) << wire;
  }
}

TEST(MqttServerSession, Qos0PublishIsDeliveredWithoutReply) {
  ServerSession s = connected();
  auto ev = s.receive(hex("30 07 0003 612f62 6869"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kMessage);
  EXPECT_EQ(ev[0].message.topic, "a/b");
  EXPECT_EQ(as_string(ev[0].message.payload), "hi");
  EXPECT_TRUE(drain(s).empty());
}

TEST(MqttServerSession, Qos1PubAckWaitsForTheApplication) {
  ServerSession s = connected();
  auto ev = s.receive(hex("32 09 0003 612f62 000a 6869"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].message.packet_id, 10);
  EXPECT_TRUE(drain(s).empty());  // nothing until storage says it is durable
  EXPECT_EQ(s.pending_acks(), 1u);
  ASSERT_TRUE(s.acknowledge(10).has_value());
  EXPECT_EQ(drain(s), hex("40 02 000a"));  // same packet id [MQTT-2.3.1-6]
  EXPECT_EQ(s.acknowledge(10).error().code, ErrorCode::kUnknownPacketId);
}

TEST(MqttServerSession, PubAcksLeaveInArrivalOrder_MQTT_4_6_0_2) {
  ServerSession s = connected();
  s.receive(hex("32 06 0001 74 0001 31 32 06 0001 74 0002 32 32 06 0001 74 0003 33"), secs(1));
  ASSERT_TRUE(s.acknowledge(3).has_value());
  ASSERT_TRUE(s.acknowledge(2).has_value());
  EXPECT_TRUE(drain(s).empty());
  ASSERT_TRUE(s.acknowledge(1).has_value());
  EXPECT_EQ(drain(s), hex("40 02 0001 40 02 0002 40 02 0003"));
  EXPECT_EQ(s.pending_acks(), 0u);
}

TEST(MqttServerSession, DuplicatePublishWhilePendingIsDeliveredAgainButAckedOnce) {
  ServerSession s = connected();
  s.receive(hex("32 06 0001 74 0001 31"), secs(1));
  auto ev = s.receive(hex("3a 06 0001 74 0001 31"), secs(2));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].message.dup);
  EXPECT_EQ(s.pending_acks(), 1u);
  ASSERT_TRUE(s.acknowledge(1).has_value());
  EXPECT_EQ(drain(s), hex("40 02 0001"));
}

TEST(MqttServerSession, TooManyUnacknowledgedPublishesClose) {
  ServerOptions o;
  o.max_pending_acks = 2;
  ServerSession s = connected(std::move(o));
  auto ev =
      s.receive(hex("32 06 0001 74 0001 31 32 06 0001 74 0002 32 32 06 0001 74 0003 33"), secs(1));
  EXPECT_EQ(closed_with(ev), ErrorCode::kInflightWindowFull);
}

TEST(MqttServerSession, AcknowledgeUnknownIdOrAfterCloseFails) {
  ServerSession s = connected();
  EXPECT_EQ(s.acknowledge(5).error().code, ErrorCode::kUnknownPacketId);
  s.receive(hex("e0 00"), secs(1));
  EXPECT_EQ(s.acknowledge(5).error().code, ErrorCode::kNotConnected);
}

TEST(MqttServerSession, SubscribeAskTheAclHookPerFilter_MQTT_3_8_4_1_and_3_9_3_1) {
  ServerOptions o;
  o.authorize_subscribe = [](std::string_view filter, QoS q) {
    if (filter != "armored/v1/gw-1/down") return SubAckCode::kFailure;
    return q == QoS::kAtMostOnce ? SubAckCode::kGrantedQos0 : SubAckCode::kGrantedQos2;
  };
  ServerSession s = connected(std::move(o));
  Bytes sub = encode_bytes(Subscribe{
      7, {{"armored/v1/gw-1/down", QoS::kExactlyOnce}, {"armored/v1/+/up", QoS::kAtLeastOnce}}});
  auto ev = s.receive(sub, secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kSubscribed);
  ASSERT_EQ(ev[0].granted.size(), 1u);
  EXPECT_EQ(ev[0].granted[0].filter, "armored/v1/gw-1/down");
  EXPECT_EQ(ev[0].granted[0].qos, QoS::kAtLeastOnce);  // QoS 2 lowered to 1
  EXPECT_EQ(drain(s), hex("90 04 0007 01 80"));
}

TEST(MqttServerSession, SubscribeDefaultGrantsAtMostQos1) {
  ServerSession s = connected();
  s.receive(encode_bytes(Subscribe{1, {{"a", QoS::kExactlyOnce}, {"b", QoS::kAtMostOnce}}}),
            secs(1));
  EXPECT_EQ(drain(s), hex("90 04 0001 01 00"));
}

TEST(MqttServerSession, UnsubscribeAlwaysGetsUnsubAck_MQTT_3_10_4_4_and_5) {
  ServerOptions o;
  o.authorize_unsubscribe = [](std::string_view f) { return f == "a"; };
  ServerSession s = connected(std::move(o));
  auto ev = s.receive(encode_bytes(Unsubscribe{4, {"a", "b"}}), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].filters, (std::vector<std::string_view>{"a"}));
  EXPECT_EQ(drain(s), hex("b0 02 0004"));
}

TEST(MqttServerSession, PingReqGetsPingResp_MQTT_3_12_4_1) {
  ServerSession s = connected();
  EXPECT_TRUE(s.receive(hex("c0 00"), secs(1)).empty());
  EXPECT_EQ(drain(s), hex("d0 00"));
}

TEST(MqttServerSession, DisconnectClosesCleanly_MQTT_3_14_4_3) {
  ServerSession s = connected();
  auto ev = s.receive(hex("e0 00 c0 00"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kClosed);
  EXPECT_FALSE(ev[0].error.has_value());
  EXPECT_TRUE(drain(s).empty());  // the PINGREQ after DISCONNECT is not answered
  EXPECT_FALSE(s.next_deadline().has_value());
}

TEST(MqttServerSession, KeepAliveExpiresAfterOneAndAHalfPeriods_MQTT_3_1_2_24) {
  ServerSession s = connected();  // keep alive 10 s
  EXPECT_EQ(s.next_deadline(), secs(15));
  EXPECT_TRUE(s.on_timer(secs(14.9)).empty());
  s.receive(hex("c0 00"), secs(10));  // any packet restarts the period
  EXPECT_EQ(s.next_deadline(), secs(25));
  EXPECT_TRUE(s.on_timer(secs(24.9)).empty());
  EXPECT_EQ(closed_with(s.on_timer(secs(25))), ErrorCode::kKeepAliveTimeout);
}

TEST(MqttServerSession, KeepAliveZeroNeverExpires) {
  ServerSession s({}, secs(0));
  s.receive(hex("10 0d 0004 4d515454 04 02 0000 0001 61"), secs(0));
  EXPECT_FALSE(s.next_deadline().has_value());
  EXPECT_TRUE(s.on_timer(secs(1e6)).empty());
}

TEST(MqttServerSession, KeepAliveZeroOrHugeIsCappedByTheServerMaximum_MQTT_3_1_2_24) {
  ServerOptions o;
  o.max_keep_alive_s = 60;
  ServerSession zero(o, secs(0));
  zero.receive(hex("10 0d 0004 4d515454 04 02 0000 0001 61"), secs(0));  // keep alive 0
  EXPECT_EQ(zero.keep_alive_s(), 60);
  EXPECT_EQ(zero.next_deadline(), secs(90));
  EXPECT_EQ(closed_with(zero.on_timer(secs(90))), ErrorCode::kKeepAliveTimeout);
  ServerSession huge(o, secs(0));
  huge.receive(hex("10 0d 0004 4d515454 04 02 ffff 0001 61"), secs(0));  // 65535 s
  EXPECT_EQ(huge.keep_alive_s(), 60);
  ServerSession small(o, secs(0));
  small.receive(hex(kConnect), secs(0));  // 10 s: below the cap, kept
  EXPECT_EQ(small.keep_alive_s(), 10);
}

TEST(MqttServerSession, ConnectMustArriveBeforeTheConnectTimeout) {
  ServerOptions o;
  o.connect_timeout = secs(2);
  ServerSession s(std::move(o), secs(100));
  EXPECT_EQ(s.next_deadline(), secs(102));
  EXPECT_TRUE(s.on_timer(secs(101)).empty());
  EXPECT_EQ(closed_with(s.on_timer(secs(102))), ErrorCode::kConnectTimeout);
}

TEST(MqttServerSession, Qos1PublishToClientIsRetransmittedUntilPubAck) {
  ServerOptions o;
  o.retransmit_timeout = secs(5);
  ServerSession s = connected(std::move(o));
  auto id = s.publish("armored/v1/gw-1/down", as_bytes("cmd"), QoS::kAtLeastOnce, false, secs(1));
  ASSERT_TRUE(id.has_value());
  Bytes first = drain(s);
  EXPECT_EQ(first[0], 0x32);
  s.receive(hex("c0 00"), secs(5));  // keep the connection alive
  drain(s);
  s.on_timer(secs(6));
  Bytes again = drain(s);
  ASSERT_EQ(again.size(), first.size());
  EXPECT_EQ(again[0], 0x3a);  // DUP set, rest identical
  EXPECT_TRUE(std::equal(first.begin() + 1, first.end(), again.begin() + 1));
  auto ev = s.receive(encode_bytes(PubAck{*id}), secs(7));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kDelivered);
  EXPECT_EQ(ev[0].packet_id, *id);
}

TEST(MqttServerSession, PublishBeforeConnectIsRefused) {
  ServerSession s({}, secs(0));
  EXPECT_EQ(s.publish("t", {}, QoS::kAtMostOnce, false, secs(0)).error().code,
            ErrorCode::kNotConnected);
}

TEST(MqttServerSession, ApplicationCloseEndsTheSession) {
  ServerSession s = connected();
  s.close(Error{ErrorCode::kInvalidTopicName, "topic not allowed for this gateway"});
  EXPECT_EQ(s.state(), ServerState::kClosed);
  EXPECT_TRUE(s.receive(hex("c0 00"), secs(1)).empty());
}

// A real ClientSession against a real ServerSession, bytes moved in memory.
TEST(MqttSessions, ClientAndServerTalkThroughTheCodec) {
  ClientOptions co;
  co.client_id = "gw-9";
  ClientSession client(co);
  ServerSession server({}, secs(0));
  std::vector<std::string> server_log;
  std::vector<std::string> client_log;
  std::vector<std::uint16_t> to_ack;
  auto pump = [&](Time now) {
    for (int i = 0; i < 10; ++i) {
      Bytes c2s(client.pending_output().begin(), client.pending_output().end());
      client.consume_output(c2s.size());
      for (const auto& e : server.receive(c2s, now)) {
        if (e.kind == Kind::kMessage) {
          server_log.push_back(std::string(e.message.topic) + "=" +
                               std::string(as_string(e.message.payload)));
          if (e.message.qos == QoS::kAtLeastOnce) to_ack.push_back(e.message.packet_id);
        }
      }
      Bytes s2c(server.pending_output().begin(), server.pending_output().end());
      server.consume_output(s2c.size());
      for (const auto& e : client.receive(s2c, now)) {
        client_log.push_back(std::to_string(static_cast<int>(e.kind)) + ":" +
                             std::string(e.message.topic));
      }
    }
  };
  ASSERT_TRUE(client.connect(secs(0)).has_value());
  pump(secs(0));
  ASSERT_EQ(client.state(), ClientState::kConnected);
  const TopicRequest down[] = {{"armored/v1/gw-9/down", QoS::kAtLeastOnce}};
  ASSERT_TRUE(client.subscribe(down, secs(1)).has_value());
  ASSERT_TRUE(
      client.publish("armored/v1/gw-9/up", as_bytes("r1"), QoS::kAtLeastOnce, false, secs(1))
          .has_value());
  pump(secs(1));
  EXPECT_EQ(server_log, std::vector<std::string>{"armored/v1/gw-9/up=r1"});
  EXPECT_EQ(client.inflight(), 1u);  // no PUBACK until the server application acks
  ASSERT_EQ(to_ack.size(), 1u);
  ASSERT_TRUE(server.acknowledge(to_ack[0]).has_value());
  ASSERT_TRUE(
      server.publish("armored/v1/gw-9/down", as_bytes("c1"), QoS::kAtLeastOnce, false, secs(2))
          .has_value());
  pump(secs(2));
  EXPECT_EQ(client.inflight(), 0u);
  EXPECT_EQ(client_log, (std::vector<std::string>{"0:", "3:", "2:", "1:armored/v1/gw-9/down"}));
  ASSERT_TRUE(client.disconnect(secs(3)).has_value());
  pump(secs(3));
  EXPECT_EQ(server.state(), ServerState::kClosed);
}

}  // namespace
}  // namespace armored::mqtt
