// Packet codec: exact byte images (MQTT 3.1.1 chapters 2 and 3 examples),
// encode/decode round trips, and one negative test per rejection rule.
#include "test_util.h"

namespace armored::mqtt {
namespace {

using test::decode_error;
using test::decode_one;
using test::encode_bytes;
using test::hex;

template <typename T>
T decode_as(const Bytes& wire, const Limits& limits = {}) {
  auto r = decode_one(wire, limits);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r || !std::holds_alternative<T>(*r)) {
    ADD_FAILURE() << "wrong packet type";
    return T{};
  }
  return std::get<T>(*r);
}

// --- Remaining Length (section 2.2.3, table 2.4) ---------------------------

TEST(MqttRemainingLength, SpecTableBoundariesRoundTrip) {
  const std::pair<std::uint32_t, const char*> rows[] = {
      {0, "00"},           {127, "7f"},          {128, "8001"},          {16'383, "ff7f"},
      {16'384, "808001"},  {2'097'151, "ffff7f"}, {2'097'152, "80808001"}, {268'435'455, "ffffff7f"}};
  for (auto [value, image] : rows) {
    // A PINGREQ-shaped header with that length: only the header is parsed.
    Bytes wire = hex(std::string("30") + image);
    Limits big;
    big.max_packet_size = SIZE_MAX;
    auto h = parse_fixed_header(wire, big);
    ASSERT_TRUE(h.has_value()) << image;
    ASSERT_TRUE(h->has_value()) << image;
    EXPECT_EQ((*h)->remaining_length, value);
    EXPECT_EQ((*h)->header_size, wire.size());
    EXPECT_EQ(remaining_length_size(value) + 1, wire.size());
  }
  EXPECT_EQ(remaining_length_size(268'435'456), 0u);
}

TEST(MqttRemainingLength, RejectsFiveByteVarint) {
  Limits big;
  big.max_packet_size = SIZE_MAX;
  auto h = parse_fixed_header(hex("30 ff ff ff ff 01"), big);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::kMalformedRemainingLength);
  // Rejected as soon as the 4th byte shows a continuation, before a 5th arrives.
  auto early = parse_fixed_header(hex("30 80 80 80 80"), big);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, ErrorCode::kMalformedRemainingLength);
}

TEST(MqttRemainingLength, RejectsNonMinimalEncoding) {
  EXPECT_EQ(parse_fixed_header(hex("c0 80 00"), {}).error().code, ErrorCode::kNonMinimalRemainingLength);
  EXPECT_EQ(parse_fixed_header(hex("30 85 80 00"), {}).error().code, ErrorCode::kNonMinimalRemainingLength);
  EXPECT_EQ(parse_fixed_header(hex("30 ff ff 80 00"), {}).error().code, ErrorCode::kNonMinimalRemainingLength);
}

TEST(MqttRemainingLength, NeedsMoreBytesWhileIncomplete) {
  for (const char* partial : {"", "30", "30 80", "30 80 80", "30 80 80 80"}) {
    Limits big;
    big.max_packet_size = SIZE_MAX;
    auto h = parse_fixed_header(hex(partial), big);
    ASSERT_TRUE(h.has_value()) << partial;
    EXPECT_FALSE(h->has_value()) << partial;
  }
}

TEST(MqttRemainingLength, RejectsAboveConfiguredLimitsBeforeTheBody) {
  Limits l;
  l.max_remaining_length = 100;
  EXPECT_EQ(parse_fixed_header(hex("30 65"), l).error().code, ErrorCode::kRemainingLengthTooLarge);  // 101
  EXPECT_TRUE(parse_fixed_header(hex("30 64"), l).has_value());                                       // 100
  Limits p;
  p.max_packet_size = 100;
  EXPECT_EQ(parse_fixed_header(hex("30 63"), p).error().code, ErrorCode::kPacketTooLarge);  // 2 + 99
  EXPECT_TRUE(parse_fixed_header(hex("30 62"), p).has_value());                              // 2 + 98
}

// --- Fixed header flags (section 2.2.2) -------------------------------------

TEST(MqttFixedHeader, RejectsReservedPacketTypes) {
  EXPECT_EQ(decode_error(hex("00 00")), ErrorCode::kReservedPacketType);
  EXPECT_EQ(decode_error(hex("f0 00")), ErrorCode::kReservedPacketType);
}

TEST(MqttFixedHeader, RejectsQos2FlowPackets) {
  EXPECT_EQ(decode_error(hex("50 02 00 01")), ErrorCode::kUnsupportedPacketType);  // PUBREC
  EXPECT_EQ(decode_error(hex("62 02 00 01")), ErrorCode::kUnsupportedPacketType);  // PUBREL
  EXPECT_EQ(decode_error(hex("70 02 00 01")), ErrorCode::kUnsupportedPacketType);  // PUBCOMP
}

TEST(MqttFixedHeader, RejectsReservedFlagBits_MQTT_2_2_2_1) {
  const char* bad[] = {"11", "21", "41", "80", "83", "91", "a0", "a3", "b8", "c1", "d2", "e4"};
  for (const char* first : bad) {
    EXPECT_EQ(decode_error(hex(std::string(first) + "00")), ErrorCode::kInvalidFlags) << first;
  }
}

// --- CONNECT (section 3.1) --------------------------------------------------

TEST(MqttConnect, EncodesTheSpecVariableHeaderExample) {
  // Section 3.1.2.10 example: protocol "MQTT", level 4, flags 0xCE (user,
  // password, will QoS 1, will flag, clean session), keep alive 10.
  Connect c;
  c.client_id = "c";
  c.clean_session = true;
  c.keep_alive_s = 10;
  c.will = Will{"w", as_bytes("m"), QoS::kAtLeastOnce, false};
  c.username = "u";
  c.password = as_bytes("p");
  EXPECT_EQ(encode_bytes(c), hex("10 19 0004 4d515454 04 ce 000a 0001 63 0001 77 0001 6d 0001 75 0001 70"));
}

TEST(MqttConnect, RoundTripsAllFields) {
  Connect c;
  c.client_id = "gw-1";
  c.clean_session = false;
  c.keep_alive_s = 30;
  c.will = Will{"armored/v1/gw-1/status", as_bytes("gone"), QoS::kAtLeastOnce, true};
  c.username = "user";
  c.password = as_bytes(std::string_view("\x00\xff", 2));
  const Bytes wire = encode_bytes(c);  // decoded views point into it
  auto d = decode_as<Connect>(wire);
  EXPECT_EQ(d.client_id, "gw-1");
  EXPECT_FALSE(d.clean_session);
  EXPECT_EQ(d.keep_alive_s, 30);
  ASSERT_TRUE(d.will.has_value());
  EXPECT_EQ(d.will->topic, "armored/v1/gw-1/status");
  EXPECT_EQ(as_string(d.will->message), "gone");
  EXPECT_EQ(d.will->qos, QoS::kAtLeastOnce);
  EXPECT_TRUE(d.will->retain);
  EXPECT_EQ(d.username, "user");
  ASSERT_TRUE(d.password.has_value());
  EXPECT_EQ(d.password->size(), 2u);
}

TEST(MqttConnect, MinimalConnectByteImage) {
  Connect c;
  c.client_id = "a";
  c.keep_alive_s = 60;
  Bytes wire = encode_bytes(c);
  EXPECT_EQ(wire, hex("10 0d 0004 4d515454 04 02 003c 0001 61"));
  EXPECT_EQ(decode_as<Connect>(wire).client_id, "a");
}

TEST(MqttConnect, RejectsWrongProtocolName_MQTT_3_1_2_1) {
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515453 04 02 003c 0001 61")), ErrorCode::kInvalidProtocolName);
  // MQTT 3.1 used "MQIsdp".
  EXPECT_EQ(decode_error(hex("10 0f 0006 4d5149736470 03 02 003c 0001 61")), ErrorCode::kInvalidProtocolName);
}

TEST(MqttConnect, RejectsUnsupportedProtocolLevel_MQTT_3_1_2_2) {
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 05 02 003c 0001 61")), ErrorCode::kUnsupportedProtocolLevel);
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 03 02 003c 0001 61")), ErrorCode::kUnsupportedProtocolLevel);
}

TEST(MqttConnect, RejectsReservedConnectFlag_MQTT_3_1_2_3) {
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 03 003c 0001 61")), ErrorCode::kInvalidConnectFlags);
}

TEST(MqttConnect, RejectsWillQosOrRetainWithoutWillFlag_MQTT_3_1_2_13_and_15) {
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 0a 003c 0001 61")), ErrorCode::kInvalidConnectFlags);
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 22 003c 0001 61")), ErrorCode::kInvalidConnectFlags);
}

TEST(MqttConnect, RejectsWillQos3_MQTT_3_1_2_14) {
  EXPECT_EQ(decode_error(hex("10 13 0004 4d515454 04 1e 003c 0001 61 0001 77 0001 6d")),
            ErrorCode::kInvalidConnectFlags);
}

TEST(MqttConnect, RejectsWillQos2WithTypedError) {
  EXPECT_EQ(decode_error(hex("10 13 0004 4d515454 04 16 003c 0001 61 0001 77 0001 6d")), ErrorCode::kQos2Unsupported);
}

TEST(MqttConnect, RejectsPasswordWithoutUserName_MQTT_3_1_2_22) {
  EXPECT_EQ(decode_error(hex("10 10 0004 4d515454 04 42 003c 0001 61 0001 70")), ErrorCode::kInvalidConnectFlags);
}

TEST(MqttConnect, RejectsTruncatedPayload) {
  // User name flag set but no user name field.
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 82 003c 0001 61")), ErrorCode::kTruncated);
  // Client id length runs past the end.
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 02 003c 0005 61")), ErrorCode::kTruncated);
  EXPECT_EQ(decode_error(hex("10 04 0004 4d51")), ErrorCode::kTruncated);
}

TEST(MqttConnect, RejectsTrailingBytes) {
  EXPECT_EQ(decode_error(hex("10 0e 0004 4d515454 04 02 003c 0001 61 00")), ErrorCode::kTrailingBytes);
}

TEST(MqttConnect, RejectsInvalidUtf8ClientId_MQTT_3_1_3_4) {
  EXPECT_EQ(decode_error(hex("10 0e 0004 4d515454 04 02 003c 0002 c0af")), ErrorCode::kInvalidUtf8);
  EXPECT_EQ(decode_error(hex("10 0d 0004 4d515454 04 02 003c 0001 00")), ErrorCode::kInvalidUtf8);
}

TEST(MqttConnect, RejectsClientIdAboveLimit) {
  Limits l;
  l.max_client_id_length = 3;
  Connect c;
  c.client_id = "abcd";
  EXPECT_EQ(decode_error(encode_bytes(c), l), ErrorCode::kInvalidClientId);
  c.client_id = "abc";
  EXPECT_EQ(decode_error(encode_bytes(c), l), ErrorCode::kCount);
}

TEST(MqttConnect, RejectsWillWithWildcardTopicAndOversizedWillMessage) {
  Bytes wild = hex("10 13 0004 4d515454 04 06 003c 0001 61 0001 23 0001 6d");  // will topic "#"
  EXPECT_EQ(decode_error(wild), ErrorCode::kInvalidTopicName);
  Limits l;
  l.max_payload_size = 2;
  Connect c;
  c.client_id = "a";
  c.will = Will{"w", as_bytes("abc"), QoS::kAtMostOnce, false};
  EXPECT_EQ(decode_error(encode_bytes(c), l), ErrorCode::kPayloadTooLarge);
}

TEST(MqttConnect, RejectsCredentialsAboveLimit) {
  Limits l;
  l.max_credential_length = 2;
  Connect c;
  c.client_id = "a";
  c.username = "abc";
  EXPECT_EQ(decode_error(encode_bytes(c), l), ErrorCode::kFieldTooLarge);
  c.username = "ab";
  c.password = as_bytes("xyz");
  EXPECT_EQ(decode_error(encode_bytes(c), l), ErrorCode::kFieldTooLarge);
}

TEST(MqttConnect, EncoderRefusesPasswordWithoutUserAndWillQos2) {
  Connect c;
  c.client_id = "a";
  c.password = as_bytes("p");
  Bytes out;
  EXPECT_EQ(append_packet(c, out).error().code, ErrorCode::kInvalidConnectFlags);
  c.password.reset();
  c.will = Will{"w", {}, QoS::kExactlyOnce, false};
  EXPECT_EQ(append_packet(c, out).error().code, ErrorCode::kQos2Unsupported);
  EXPECT_TRUE(out.empty());
}

// --- CONNACK (section 3.2) --------------------------------------------------

TEST(MqttConnAck, ByteImagesAndRoundTrip) {
  EXPECT_EQ(encode_bytes(ConnAck{false, ConnectReturnCode::kAccepted}), hex("20 02 00 00"));
  EXPECT_EQ(encode_bytes(ConnAck{true, ConnectReturnCode::kAccepted}), hex("20 02 01 00"));
  EXPECT_EQ(encode_bytes(ConnAck{false, ConnectReturnCode::kNotAuthorized}), hex("20 02 00 05"));
  auto a = decode_as<ConnAck>(hex("20 02 01 00"));
  EXPECT_TRUE(a.session_present);
  EXPECT_EQ(decode_as<ConnAck>(hex("20 02 00 02")).code, ConnectReturnCode::kIdentifierRejected);
}

TEST(MqttConnAck, RejectsReservedAckFlags_MQTT_3_2_2_1) {
  EXPECT_EQ(decode_error(hex("20 02 02 00")), ErrorCode::kInvalidFlags);
}

TEST(MqttConnAck, RejectsSessionPresentOnRefusal_MQTT_3_2_2_4) {
  EXPECT_EQ(decode_error(hex("20 02 01 05")), ErrorCode::kInvalidFlags);
}

TEST(MqttConnAck, RejectsUnknownReturnCodeAndWrongLength) {
  EXPECT_EQ(decode_error(hex("20 02 00 06")), ErrorCode::kInvalidReturnCode);
  EXPECT_EQ(decode_error(hex("20 01 00")), ErrorCode::kTruncated);
  EXPECT_EQ(decode_error(hex("20 03 00 00 00")), ErrorCode::kTrailingBytes);
}

// --- PUBLISH (section 3.3) --------------------------------------------------

TEST(MqttPublish, SpecVariableHeaderExampleTopicAbPacketId10) {
  // Section 3.3.2.3 example: topic "a/b", packet identifier 10.
  Publish p{"a/b", as_bytes("hi"), QoS::kAtLeastOnce, false, false, 10};
  EXPECT_EQ(encode_bytes(p), hex("32 09 0003 612f62 000a 6869"));
}

TEST(MqttPublish, RoundTripsQos0And1WithFlags) {
  Publish q0{"armored/v1/gw-1/up", as_bytes("payload"), QoS::kAtMostOnce, true, false, 0};
  Bytes w0 = encode_bytes(q0);
  EXPECT_EQ(w0[0], 0x31);
  auto d0 = decode_as<Publish>(w0);
  EXPECT_EQ(d0.topic, q0.topic);
  EXPECT_EQ(as_string(d0.payload), "payload");
  EXPECT_TRUE(d0.retain);
  EXPECT_EQ(d0.packet_id, 0);

  Publish q1{"t", {}, QoS::kAtLeastOnce, false, true, 65535};
  Bytes w1 = encode_bytes(q1);
  EXPECT_EQ(w1, hex("3a 05 0001 74 ffff"));
  auto d1 = decode_as<Publish>(w1);
  EXPECT_TRUE(d1.dup);
  EXPECT_EQ(d1.qos, QoS::kAtLeastOnce);
  EXPECT_EQ(d1.packet_id, 65535);
  EXPECT_TRUE(d1.payload.empty());
}

TEST(MqttPublish, DecodedTopicAndPayloadAreViewsIntoTheInput) {
  Bytes wire = encode_bytes(Publish{"a/b", as_bytes("xyz"), QoS::kAtMostOnce, false, false, 0});
  auto d = decode_as<Publish>(wire);
  EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(d.topic.data()), wire.data() + 4);
  EXPECT_EQ(d.payload.data(), wire.data() + 7);
}

TEST(MqttPublish, RejectsQos3_MQTT_3_3_1_4) {
  EXPECT_EQ(decode_error(hex("36 05 0001 74 0001")), ErrorCode::kInvalidQos);
}

TEST(MqttPublish, RejectsQos2WithTypedError) {
  EXPECT_EQ(decode_error(hex("34 05 0001 74 0001")), ErrorCode::kQos2Unsupported);
  Bytes out;
  EXPECT_EQ(append_packet(Publish{"t", {}, QoS::kExactlyOnce, false, false, 1}, out).error().code,
            ErrorCode::kQos2Unsupported);
}

TEST(MqttPublish, RejectsDupOnQos0_MQTT_3_3_1_2) {
  EXPECT_EQ(decode_error(hex("38 03 0001 74")), ErrorCode::kDupWithQos0);
  Bytes out;
  EXPECT_EQ(append_packet(Publish{"t", {}, QoS::kAtMostOnce, false, true, 0}, out).error().code,
            ErrorCode::kDupWithQos0);
}

TEST(MqttPublish, RejectsWildcardInTopic_MQTT_3_3_2_2) {
  EXPECT_EQ(decode_error(hex("30 04 0002 612b")), ErrorCode::kInvalidTopicName);  // "a+"
  EXPECT_EQ(decode_error(hex("30 03 0001 23")), ErrorCode::kInvalidTopicName);    // "#"
  Bytes out;
  EXPECT_EQ(append_packet(Publish{"a/#", {}, QoS::kAtMostOnce, false, false, 0}, out).error().code,
            ErrorCode::kInvalidTopicName);
}

TEST(MqttPublish, RejectsEmptyTopic_MQTT_4_7_3_1) {
  EXPECT_EQ(decode_error(hex("30 02 0000")), ErrorCode::kInvalidTopicName);
}

TEST(MqttPublish, RejectsBadUtf8InTopic_MQTT_1_5_3_1) {
  EXPECT_EQ(decode_error(hex("30 05 0003 61eda080")), ErrorCode::kInvalidUtf8);  // surrogate
  EXPECT_EQ(decode_error(hex("30 04 0002 6100")), ErrorCode::kInvalidUtf8);      // U+0000
}

TEST(MqttPublish, RejectsZeroPacketId_MQTT_2_3_1_1) {
  EXPECT_EQ(decode_error(hex("32 05 0001 74 0000")), ErrorCode::kZeroPacketId);
  Bytes out;
  EXPECT_EQ(append_packet(Publish{"t", {}, QoS::kAtLeastOnce, false, false, 0}, out).error().code,
            ErrorCode::kZeroPacketId);
}

TEST(MqttPublish, RejectsTruncatedTopicAndPacketId) {
  EXPECT_EQ(decode_error(hex("30 03 0005 74")), ErrorCode::kTruncated);
  EXPECT_EQ(decode_error(hex("32 04 0001 74 00")), ErrorCode::kTruncated);
  EXPECT_EQ(decode_error(hex("30 01 00")), ErrorCode::kTruncated);
}

TEST(MqttPublish, RejectsTopicAndPayloadAboveLimits) {
  Limits l;
  l.max_topic_length = 3;
  l.max_payload_size = 4;
  EXPECT_EQ(decode_error(encode_bytes(Publish{"abcd", {}, QoS::kAtMostOnce, false, false, 0}), l),
            ErrorCode::kInvalidTopicName);
  EXPECT_EQ(decode_error(encode_bytes(Publish{"abc", as_bytes("12345"), QoS::kAtMostOnce, false, false, 0}), l),
            ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(decode_error(encode_bytes(Publish{"abc", as_bytes("1234"), QoS::kAtMostOnce, false, false, 0}), l),
            ErrorCode::kCount);
}

TEST(MqttPublish, EncoderChecksBufferCapacity) {
  Publish p{"a/b", as_bytes("hello"), QoS::kAtLeastOnce, false, false, 7};
  std::uint8_t small[13];
  auto r = encode_publish(p, small);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBufferTooSmall);
  std::uint8_t exact[14];
  auto ok = encode_publish(p, exact);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 14u);
  EXPECT_EQ(*encoded_size(Packet{p}), 14u);
}

TEST(MqttPublish, LargePayloadUsesMultiByteRemainingLength) {
  std::string payload(20'000, 'x');
  Bytes wire = encode_bytes(Publish{"t", as_bytes(payload), QoS::kAtMostOnce, false, false, 0});
  EXPECT_EQ(wire.size(), 1 + 3 + 3 + payload.size());
  Limits l;
  l.max_payload_size = 1 << 20;
  EXPECT_EQ(decode_as<Publish>(wire, l).payload.size(), payload.size());
}

// --- PUBACK, UNSUBACK (sections 3.4, 3.11) ----------------------------------

TEST(MqttAcks, ByteImagesAndRoundTrip) {
  EXPECT_EQ(encode_bytes(PubAck{10}), hex("40 02 000a"));
  EXPECT_EQ(encode_bytes(UnsubAck{258}), hex("b0 02 0102"));
  EXPECT_EQ(decode_as<PubAck>(hex("40 02 000a")).packet_id, 10);
  EXPECT_EQ(decode_as<UnsubAck>(hex("b0 02 0102")).packet_id, 258);
}

TEST(MqttAcks, RejectWrongLengthAndZeroId) {
  EXPECT_EQ(decode_error(hex("40 01 00")), ErrorCode::kTruncated);
  EXPECT_EQ(decode_error(hex("40 03 0001 00")), ErrorCode::kTrailingBytes);
  EXPECT_EQ(decode_error(hex("40 02 0000")), ErrorCode::kZeroPacketId);
  EXPECT_EQ(decode_error(hex("b0 02 0000")), ErrorCode::kZeroPacketId);
}

// --- SUBSCRIBE / SUBACK (sections 3.8, 3.9) ---------------------------------

TEST(MqttSubscribe, SpecPayloadExample) {
  // Section 3.8.3 example: "a/b" QoS 1, "c/d" QoS 2, packet identifier 10.
  Subscribe s{10, {{"a/b", QoS::kAtLeastOnce}, {"c/d", QoS::kExactlyOnce}}};
  Bytes wire = encode_bytes(s);
  EXPECT_EQ(wire, hex("82 0e 000a 0003 612f62 01 0003 632f64 02"));
  auto d = decode_as<Subscribe>(wire);
  EXPECT_EQ(d.packet_id, 10);
  ASSERT_EQ(d.topics.size(), 2u);
  EXPECT_EQ(d.topics[1].filter, "c/d");
  EXPECT_EQ(d.topics[1].qos, QoS::kExactlyOnce);
}

TEST(MqttSubscribe, RejectsReservedHeaderFlags_MQTT_3_8_1_1) {
  EXPECT_EQ(decode_error(hex("80 08 000a 0003 612f62 01")), ErrorCode::kInvalidFlags);
}

TEST(MqttSubscribe, RejectsEmptyPayload_MQTT_3_8_3_3) {
  EXPECT_EQ(decode_error(hex("82 02 000a")), ErrorCode::kEmptySubscription);
  Bytes out;
  EXPECT_EQ(append_packet(Subscribe{1, {}}, out).error().code, ErrorCode::kEmptySubscription);
}

TEST(MqttSubscribe, RejectsReservedQosBits_MQTT_3_8_3_4) {
  EXPECT_EQ(decode_error(hex("82 08 000a 0003 612f62 03")), ErrorCode::kInvalidQos);
  EXPECT_EQ(decode_error(hex("82 08 000a 0003 612f62 41")), ErrorCode::kInvalidQos);
}

TEST(MqttSubscribe, RejectsInvalidFilters_MQTT_4_7_1_2_and_3) {
  EXPECT_EQ(decode_error(hex("82 08 000a 0003 23 2f 61 01")), ErrorCode::kInvalidTopicFilter);  // "#/a"
  EXPECT_EQ(decode_error(hex("82 07 000a 0002 612b 01")), ErrorCode::kInvalidTopicFilter);      // "a+"
  EXPECT_EQ(decode_error(hex("82 05 000a 0000 01")), ErrorCode::kInvalidTopicFilter);           // ""
  EXPECT_EQ(decode_error(hex("82 07 000a 0002 61c0 01")), ErrorCode::kInvalidUtf8);
}

TEST(MqttSubscribe, RejectsZeroIdTruncationAndTooManyTopics) {
  EXPECT_EQ(decode_error(hex("82 08 0000 0003 612f62 01")), ErrorCode::kZeroPacketId);
  EXPECT_EQ(decode_error(hex("82 07 000a 0003 612f62")), ErrorCode::kTruncated);  // QoS byte missing
  Limits l;
  l.max_topics_per_packet = 1;
  EXPECT_EQ(decode_error(encode_bytes(Subscribe{1, {{"a", QoS::kAtMostOnce}, {"b", QoS::kAtMostOnce}}}), l),
            ErrorCode::kTooManyTopics);
}

TEST(MqttSubAck, SpecPayloadExampleAndRoundTrip) {
  // Section 3.9.3 example: success QoS 0, success QoS 2, failure.
  SubAck a{10, {SubAckCode::kGrantedQos0, SubAckCode::kGrantedQos2, SubAckCode::kFailure}};
  Bytes wire = encode_bytes(a);
  EXPECT_EQ(wire, hex("90 05 000a 00 02 80"));
  EXPECT_EQ(decode_as<SubAck>(wire).codes, a.codes);
}

TEST(MqttSubAck, RejectsReservedReturnCodes_MQTT_3_9_3_2) {
  EXPECT_EQ(decode_error(hex("90 03 000a 03")), ErrorCode::kInvalidReturnCode);
  EXPECT_EQ(decode_error(hex("90 03 000a 81")), ErrorCode::kInvalidReturnCode);
  EXPECT_EQ(decode_error(hex("90 02 000a")), ErrorCode::kEmptySubscription);
  Bytes out;
  EXPECT_EQ(append_packet(SubAck{1, {static_cast<SubAckCode>(7)}}, out).error().code, ErrorCode::kInvalidReturnCode);
}

// --- UNSUBSCRIBE (section 3.10) ----------------------------------------------

TEST(MqttUnsubscribe, SpecPayloadExample) {
  Unsubscribe u{10, {"a/b", "c/d"}};
  Bytes wire = encode_bytes(u);
  EXPECT_EQ(wire, hex("a2 0c 000a 0003 612f62 0003 632f64"));
  EXPECT_EQ(decode_as<Unsubscribe>(wire).filters, u.filters);
}

TEST(MqttUnsubscribe, RejectsFlagsEmptyZeroIdAndBadFilter) {
  EXPECT_EQ(decode_error(hex("a0 07 000a 0003 612f62")), ErrorCode::kInvalidFlags);  // [MQTT-3.10.1-1]
  EXPECT_EQ(decode_error(hex("a2 02 000a")), ErrorCode::kEmptySubscription);         // [MQTT-3.10.3-2]
  EXPECT_EQ(decode_error(hex("a2 07 0000 0003 612f62")), ErrorCode::kZeroPacketId);
  EXPECT_EQ(decode_error(hex("a2 06 000a 0002 2361")), ErrorCode::kInvalidTopicFilter);  // "#a"
  EXPECT_EQ(decode_error(hex("a2 06 000a 0005 612f")), ErrorCode::kTruncated);
}

// --- PINGREQ, PINGRESP, DISCONNECT (sections 3.12 - 3.14) -----------------

TEST(MqttEmptyPackets, ByteImagesAndRoundTrip) {
  EXPECT_EQ(encode_bytes(PingReq{}), hex("c0 00"));
  EXPECT_EQ(encode_bytes(PingResp{}), hex("d0 00"));
  EXPECT_EQ(encode_bytes(Disconnect{}), hex("e0 00"));
  EXPECT_TRUE(std::holds_alternative<PingReq>(*decode_one(hex("c0 00"))));
  EXPECT_TRUE(std::holds_alternative<PingResp>(*decode_one(hex("d0 00"))));
  EXPECT_TRUE(std::holds_alternative<Disconnect>(*decode_one(hex("e0 00"))));
}

TEST(MqttEmptyPackets, RejectNonZeroLength) {
  EXPECT_EQ(decode_error(hex("c0 01 00")), ErrorCode::kTrailingBytes);
  EXPECT_EQ(decode_error(hex("e0 01 00")), ErrorCode::kTrailingBytes);
}

TEST(MqttErrors, EveryCodeHasAStableName) {
  for (std::size_t i = 0; i < kErrorCodeCount; ++i) {
    EXPECT_NE(to_string(static_cast<ErrorCode>(i)), "unknown");
  }
  EXPECT_EQ(to_string(ErrorCode::kNonMinimalRemainingLength), "non_minimal_remaining_length");
  EXPECT_EQ(to_string(PacketType::kPublish), "PUBLISH");
}

}  // namespace
}  // namespace armored::mqtt
