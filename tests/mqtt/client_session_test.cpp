// ClientSession: every declared transition, and undeclared ones closing the
// session. The server side is scripted with encoded packets.
#include "mqtt/client_session.h"

#include "test_util.h"

namespace armored::mqtt {
namespace {

using test::encode_bytes;
using test::hex;
using test::secs;
using Kind = ClientEvent::Kind;

Bytes drain(ClientSession& c) {
  Bytes b(c.pending_output().begin(), c.pending_output().end());
  c.consume_output(b.size());
  return b;
}

std::vector<Kind> kinds(std::span<const ClientEvent> events) {
  std::vector<Kind> k;
  for (const auto& e : events) k.push_back(e.kind);
  return k;
}

ClientOptions options() {
  ClientOptions o;
  o.client_id = "gw-1";
  o.keep_alive_s = 10;
  o.max_inflight = 2;
  o.retransmit_timeout = secs(5);
  o.connect_timeout = secs(3);
  o.ping_timeout = secs(4);
  return o;
}

// A session that has sent CONNECT and received CONNACK at t = 0.
ClientSession connected(ClientOptions o = options()) {
  ClientSession c(std::move(o));
  EXPECT_TRUE(c.connect(secs(0)).has_value());
  drain(c);
  auto ev = c.receive(hex("20 02 00 00"), secs(0));
  EXPECT_EQ(kinds(ev), std::vector<Kind>{Kind::kConnected});
  return c;
}

TEST(MqttClientSession, ConnectQueuesTheConnectPacket_MQTT_3_1_0_1) {
  ClientSession c(options());
  EXPECT_EQ(c.state(), ClientState::kIdle);
  ASSERT_TRUE(c.connect(secs(0)).has_value());
  EXPECT_EQ(c.state(), ClientState::kConnecting);
  EXPECT_EQ(drain(c), hex("10 10 0004 4d515454 04 02 000a 0004 67772d31"));
}

TEST(MqttClientSession, ActionsBeforeConnectAreRefused) {
  ClientSession c(options());
  EXPECT_EQ(c.publish("t", {}, QoS::kAtMostOnce, false, secs(0)).error().code,
            ErrorCode::kNotConnected);
  EXPECT_EQ(c.disconnect(secs(0)).error().code, ErrorCode::kNotConnected);
  EXPECT_TRUE(
      c.receive(hex("20 02 00 00"), secs(0)).empty());  // bytes before connect() are ignored
  EXPECT_TRUE(c.pending_output().empty());
}

TEST(MqttClientSession, SecondConnectWhileOpenIsRefused) {
  ClientSession c = connected();
  EXPECT_EQ(c.connect(secs(1)).error().code, ErrorCode::kNotConnected);
}

TEST(MqttClientSession, ConnAckAcceptedConnects) {
  ClientSession c(options());
  ASSERT_TRUE(c.connect(secs(0)).has_value());
  auto ev = c.receive(hex("20 02 01 00"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kConnected);
  EXPECT_TRUE(ev[0].session_present);
  EXPECT_EQ(c.state(), ClientState::kConnected);
}

TEST(MqttClientSession, ConnAckRefusedCloses) {
  ClientSession c(options());
  ASSERT_TRUE(c.connect(secs(0)).has_value());
  auto ev = c.receive(hex("20 02 00 05"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kClosed);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kConnectionRefused);
  EXPECT_EQ(ev[0].connack_code, ConnectReturnCode::kNotAuthorized);
  EXPECT_EQ(c.state(), ClientState::kClosed);
  EXPECT_EQ(c.counters().count(ErrorCode::kConnectionRefused), 1u);
}

TEST(MqttClientSession, FirstPacketOtherThanConnAckIsAViolation_MQTT_3_2_0_1) {
  ClientSession c(options());
  ASSERT_TRUE(c.connect(secs(0)).has_value());
  auto ev = c.receive(hex("30 03 0001 74"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kClosed);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kUnexpectedPacket);
}

TEST(MqttClientSession, ConnAckTimeoutCloses) {
  ClientSession c(options());
  ASSERT_TRUE(c.connect(secs(10)).has_value());
  EXPECT_EQ(c.next_deadline(), secs(13));
  EXPECT_TRUE(c.on_timer(secs(12.9)).empty());
  auto ev = c.on_timer(secs(13));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kConnectTimeout);
}

TEST(MqttClientSession, ServerPacketsNotDeclaredCloseTheSession) {
  for (const char* wire : {"10 0d 0004 4d515454 04 02 003c 0001 61", "20 02 00 00",
                           "82 06 0001 0001 61 00", "c0 00", "e0 00"}) {
    ClientSession c = connected();
    auto ev = c.receive(hex(wire), secs(1));
    ASSERT_EQ(ev.size(), 1u) << wire;
    EXPECT_EQ(ev[0].error->code, ErrorCode::kUnexpectedPacket) << wire;
  }
}

TEST(MqttClientSession, MalformedBytesCloseWithTheCodecError) {
  ClientSession c = connected();
  auto ev = c.receive(hex("30 80 00"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kNonMinimalRemainingLength);
  EXPECT_EQ(c.counters().count(ErrorCode::kNonMinimalRemainingLength), 1u);
}

TEST(MqttClientSession, KeepAliveSendsPingReqWhenIdle_MQTT_3_1_2_23) {
  ClientSession c = connected();
  EXPECT_EQ(c.next_deadline(), secs(10));
  EXPECT_TRUE(c.on_timer(secs(9.9)).empty());
  EXPECT_TRUE(drain(c).empty());
  c.on_timer(secs(10));
  EXPECT_EQ(drain(c), hex("c0 00"));
  c.on_timer(secs(11));  // one PINGREQ outstanding at a time
  EXPECT_TRUE(drain(c).empty());
  EXPECT_TRUE(c.receive(hex("d0 00"), secs(11)).empty());
  EXPECT_EQ(c.next_deadline(), secs(20));
}

TEST(MqttClientSession, SendingAnyPacketPostponesThePing) {
  ClientSession c = connected();
  ASSERT_TRUE(c.publish("t", {}, QoS::kAtMostOnce, false, secs(6)).has_value());
  drain(c);
  EXPECT_EQ(c.next_deadline(), secs(16));
  c.on_timer(secs(10));
  EXPECT_TRUE(drain(c).empty());
}

TEST(MqttClientSession, MissingPingRespClosesTheSession) {
  ClientSession c = connected();
  c.on_timer(secs(10));
  EXPECT_EQ(drain(c), hex("c0 00"));
  EXPECT_EQ(c.next_deadline(), secs(14));
  auto ev = c.on_timer(secs(14));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kKeepAliveTimeout);
}

TEST(MqttClientSession, Qos0PublishHasNoPacketIdAndNoState_MQTT_2_3_1_5) {
  ClientSession c = connected();
  auto id = c.publish("a/b", as_bytes("hi"), QoS::kAtMostOnce, false, secs(1));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, 0);
  EXPECT_EQ(drain(c), hex("30 07 0003 612f62 6869"));
  EXPECT_EQ(c.inflight(), 0u);
}

TEST(MqttClientSession, Qos1InflightWindowAndPubAck_MQTT_2_3_1_2) {
  ClientSession c = connected();
  auto a = c.publish("t", as_bytes("1"), QoS::kAtLeastOnce, false, secs(1));
  auto b = c.publish("t", as_bytes("2"), QoS::kAtLeastOnce, false, secs(1));
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, 0);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(drain(c), hex("32 06 0001 74 0001 31 32 06 0001 74 0002 32"));
  EXPECT_EQ(c.publish("t", {}, QoS::kAtLeastOnce, false, secs(1)).error().code,
            ErrorCode::kInflightWindowFull);
  auto ev = c.receive(encode_bytes(PubAck{*b}), secs(2));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kPublishAcked);
  EXPECT_EQ(ev[0].packet_id, *b);
  EXPECT_EQ(c.inflight(), 1u);
  EXPECT_TRUE(c.publish("t", {}, QoS::kAtLeastOnce, false, secs(2)).has_value());
}

TEST(MqttClientSession, UnknownPubAckIsCountedNotFatal) {
  ClientSession c = connected();
  EXPECT_TRUE(c.receive(hex("40 02 0063"), secs(1)).empty());
  EXPECT_EQ(c.state(), ClientState::kConnected);
  EXPECT_EQ(c.counters().count(ErrorCode::kUnknownPacketId), 1u);
}

TEST(MqttClientSession, RetransmitsWithDupAndSameIdAfterTimeout_MQTT_2_3_1_3_and_3_3_1_1) {
  ClientSession c = connected();
  ASSERT_TRUE(c.publish("t", as_bytes("1"), QoS::kAtLeastOnce, false, secs(1)).has_value());
  ASSERT_TRUE(c.publish("t", as_bytes("2"), QoS::kAtLeastOnce, false, secs(2)).has_value());
  drain(c);
  EXPECT_EQ(c.next_deadline(), secs(6));
  c.on_timer(secs(6));
  EXPECT_EQ(drain(c), hex("3a 06 0001 74 0001 31"));
  c.on_timer(secs(7));
  EXPECT_EQ(drain(c), hex("3a 06 0001 74 0002 32"));
}

TEST(MqttClientSession, ReconnectResendsInflightInOrderWithDup_MQTT_4_4_0_1_and_4_6_0_1) {
  ClientSession c = connected();
  ASSERT_TRUE(c.publish("t", as_bytes("1"), QoS::kAtLeastOnce, false, secs(1)).has_value());
  ASSERT_TRUE(c.publish("t", as_bytes("2"), QoS::kAtLeastOnce, false, secs(1)).has_value());
  drain(c);
  c.transport_closed();
  EXPECT_EQ(c.state(), ClientState::kClosed);
  EXPECT_EQ(c.publish("t", {}, QoS::kAtMostOnce, false, secs(2)).error().code,
            ErrorCode::kNotConnected);
  ASSERT_TRUE(c.connect(secs(3)).has_value());
  drain(c);
  c.receive(hex("20 02 00 00"), secs(3));
  EXPECT_EQ(drain(c), hex("3a 06 0001 74 0001 31 3a 06 0001 74 0002 32"));
  EXPECT_EQ(c.inflight(), 2u);
}

TEST(MqttClientSession, IncomingQos1IsDeliveredAndAcknowledged_MQTT_2_3_1_6) {
  ClientSession c = connected();
  auto ev = c.receive(hex("32 08 0003 612f62 0007 7a"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kMessage);
  EXPECT_EQ(ev[0].message.topic, "a/b");
  EXPECT_EQ(as_string(ev[0].message.payload), "z");
  EXPECT_EQ(drain(c), hex("40 02 0007"));
}

TEST(MqttClientSession, SubscribeAndSubAck_MQTT_3_8_4_2) {
  ClientSession c = connected();
  const TopicRequest topics[] = {{"a/b", QoS::kAtLeastOnce}, {"c/#", QoS::kAtMostOnce}};
  auto id = c.subscribe(topics, secs(1));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(drain(c), hex("82 0e 0001 0003 612f62 01 0003 632f23 00"));
  auto ev = c.receive(hex("90 04 0001 01 80"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kSubscribed);
  EXPECT_EQ(ev[0].codes, (std::vector<SubAckCode>{SubAckCode::kGrantedQos1, SubAckCode::kFailure}));
}

TEST(MqttClientSession, SubAckWithWrongCodeCountIsAViolation_MQTT_3_8_4_5) {
  ClientSession c = connected();
  const TopicRequest topics[] = {{"a", QoS::kAtLeastOnce}, {"b", QoS::kAtMostOnce}};
  ASSERT_TRUE(c.subscribe(topics, secs(1)).has_value());
  auto ev = c.receive(hex("90 03 0001 01"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kInvalidReturnCode);
}

TEST(MqttClientSession, SubAckForUnknownIdIsAViolation_MQTT_2_3_1_7) {
  ClientSession c = connected();
  auto ev = c.receive(hex("90 03 0009 01"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].error->code, ErrorCode::kUnknownPacketId);
}

TEST(MqttClientSession, UnsubscribeAndUnsubAck) {
  ClientSession c = connected();
  const std::string_view filters[] = {"a/b"};
  auto id = c.unsubscribe(filters, secs(1));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(drain(c), hex("a2 07 0001 0003 612f62"));
  auto ev = c.receive(hex("b0 02 0001"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kUnsubscribed);
  // The identifier is free again: a UNSUBACK for it now is unknown.
  auto again = c.receive(hex("b0 02 0001"), secs(1));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].error->code, ErrorCode::kUnknownPacketId);
}

TEST(MqttClientSession, DisconnectSendsDisconnectAndCloses) {
  ClientSession c = connected();
  ASSERT_TRUE(c.disconnect(secs(1)).has_value());
  EXPECT_EQ(drain(c), hex("e0 00"));
  EXPECT_EQ(c.state(), ClientState::kClosed);
  EXPECT_EQ(c.publish("t", {}, QoS::kAtMostOnce, false, secs(1)).error().code,
            ErrorCode::kNotConnected);
  EXPECT_FALSE(c.next_deadline().has_value());
}

TEST(MqttClientSession, InvalidPublishesAreRefusedWithoutSideEffects) {
  ClientSession c = connected();
  EXPECT_EQ(c.publish("t", {}, QoS::kExactlyOnce, false, secs(1)).error().code,
            ErrorCode::kQos2Unsupported);
  EXPECT_EQ(c.publish("a/+", {}, QoS::kAtLeastOnce, false, secs(1)).error().code,
            ErrorCode::kInvalidTopicName);
  EXPECT_EQ(c.inflight(), 0u);
  EXPECT_TRUE(drain(c).empty());
  EXPECT_TRUE(c.publish("t", {}, QoS::kAtLeastOnce, false, secs(1)).has_value());
  EXPECT_EQ(c.inflight(), 1u);
}

TEST(MqttClientSession, ApplicationResendCarriesDup_MQTT_3_3_1_1) {
  ClientSession c = connected();
  auto id = c.publish("t", as_bytes("1"), QoS::kAtLeastOnce, false, secs(1), /*dup=*/true);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(drain(c), hex("3a 06 0001 74 0001 31"));
  // A first delivery has DUP 0.
  ASSERT_TRUE(c.publish("t", as_bytes("2"), QoS::kAtLeastOnce, false, secs(1)).has_value());
  EXPECT_EQ(drain(c), hex("32 06 0001 74 0002 32"));
}

TEST(MqttClientSession, DupOnQos0IsRefused_MQTT_3_3_1_2) {
  ClientSession c = connected();
  EXPECT_EQ(c.publish("t", as_bytes("1"), QoS::kAtMostOnce, false, secs(1), true).error().code,
            ErrorCode::kDupWithQos0);
  EXPECT_TRUE(drain(c).empty());
}

TEST(MqttClientSession, DupPublishDecodesWithTheFlagSet) {
  ClientSession c = connected();
  ASSERT_TRUE(c.publish("a/b", as_bytes("x"), QoS::kAtLeastOnce, false, secs(1), true).has_value());
  Bytes wire = drain(c);
  auto p = test::decode_one(wire);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(std::get<Publish>(*p).dup);
}

ClientOptions deferred() {
  ClientOptions o = options();
  o.deferred_acks = true;
  o.max_pending_acks = 2;
  return o;
}

TEST(MqttClientSession, DeferredAcksWaitForTheApplication) {
  ClientSession c = connected(deferred());
  auto ev = c.receive(hex("32 08 0003 612f62 0007 7a"), secs(1));
  ASSERT_EQ(kinds(ev), std::vector<Kind>{Kind::kMessage});
  EXPECT_TRUE(drain(c).empty()) << "no PUBACK before acknowledge()";
  ASSERT_TRUE(c.acknowledge(7).has_value());
  EXPECT_EQ(drain(c), hex("40 02 0007"));
  EXPECT_EQ(c.acknowledge(7).error().code, ErrorCode::kUnknownPacketId);
}

TEST(MqttClientSession, DeferredAcksLeaveInArrivalOrder_MQTT_4_6_0_2) {
  ClientSession c = connected(deferred());
  c.receive(hex("32 08 0003 612f62 0007 7a 32 08 0003 612f62 0008 79"), secs(1));
  ASSERT_TRUE(c.acknowledge(8).has_value());
  EXPECT_TRUE(drain(c).empty()) << "8 waits for 7";
  ASSERT_TRUE(c.acknowledge(7).has_value());
  EXPECT_EQ(drain(c), hex("40 02 0007 40 02 0008"));
}

TEST(MqttClientSession, DeferredAcksAreBoundedAndDupRedeliveryIsNotCountedTwice) {
  ClientSession c = connected(deferred());
  c.receive(hex("32 08 0003 612f62 0007 7a"), secs(1));
  // The broker re-sends 7 with DUP: still one pending acknowledgement.
  auto ev = c.receive(hex("3a 08 0003 612f62 0007 7a"), secs(1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].message.dup);
  c.receive(hex("32 08 0003 612f62 0008 7a"), secs(1));
  EXPECT_EQ(c.state(), ClientState::kConnected);
  auto over = c.receive(hex("32 08 0003 612f62 0009 7a"), secs(1));
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].kind, Kind::kClosed);
  EXPECT_EQ(over[0].error->code, ErrorCode::kInflightWindowFull);
}

TEST(MqttClientSession, DeferredAcksDoNotSurviveAReconnect) {
  ClientSession c = connected(deferred());
  c.receive(hex("32 08 0003 612f62 0007 7a"), secs(1));
  c.transport_closed();
  EXPECT_EQ(c.acknowledge(7).error().code, ErrorCode::kNotConnected);
  ASSERT_TRUE(c.connect(secs(2)).has_value());
  c.receive(hex("20 02 01 00"), secs(2));
  drain(c);
  EXPECT_EQ(c.acknowledge(7).error().code, ErrorCode::kUnknownPacketId);
  EXPECT_TRUE(drain(c).empty());
}

TEST(MqttClientSession, PublishQueuedBeforeConnAckIsNotSentTwice_MQTT_4_4_0_1) {
  ClientSession c(options());
  ASSERT_TRUE(c.connect(secs(0)).has_value());
  // Queued with the CONNECT (as in 0-RTT early data): sent once.
  ASSERT_TRUE(c.publish("t", as_bytes("1"), QoS::kAtLeastOnce, false, secs(0)).has_value());
  drain(c);
  c.receive(hex("20 02 00 00"), secs(1));
  EXPECT_TRUE(drain(c).empty()) << "re-sent on the connection that already carried it";
  // After a reconnect the same packet is re-sent once, with DUP.
  c.transport_closed();
  ASSERT_TRUE(c.connect(secs(2)).has_value());
  ASSERT_TRUE(c.publish("t", as_bytes("2"), QoS::kAtLeastOnce, false, secs(2)).has_value());
  drain(c);
  c.receive(hex("20 02 00 00"), secs(2));
  EXPECT_EQ(drain(c), hex("3a 06 0001 74 0001 31"));
}

}  // namespace
}  // namespace armored::mqtt
