// Packet bodies (MQTT 3.1.1 chapter 3): decode_body() and one parser per
// packet type, each reading through a bounded ByteReader so it reads like the
// packet's schema. The streaming Decoder that frames a byte stream into
// packets is decoder.cpp.
#include "mqtt/codec.h"
#include "mqtt/text.h"

namespace armored::mqtt {
namespace {

Unexpected<Error> truncated() {
  return mqtt_error(ErrorCode::kTruncated, "field runs past end of packet");
}

MqttStatus read_u16(ByteReader& r, std::uint16_t& out_) {
  if (!r.read_u16be(out_)) return truncated();
  return {};
}

// Length-prefixed binary field (section 1.5.3 framing).
MqttStatus read_binary(ByteReader& r, ByteSpan& out_) {
  std::uint16_t len = 0;
  ARMORED_TRY(read_u16(r, len));
  if (!r.read_bytes(len, out_)) return truncated();
  return {};
}

MqttStatus read_utf8(ByteReader& r, std::string_view& out_) {
  ByteSpan b;
  ARMORED_TRY(read_binary(r, b));
  out_ = as_string(b);
  return validate_utf8(out_);
}

// Topic name or filter: validated once, by the topic rules (which include UTF-8).
MqttStatus read_topic_bytes(ByteReader& r, std::string_view& out_) {
  ByteSpan b;
  ARMORED_TRY(read_binary(r, b));
  out_ = as_string(b);
  return {};
}

MqttStatus read_packet_id(ByteReader& r, std::uint16_t& out_) {
  ARMORED_TRY(read_u16(r, out_));
  if (out_ == 0) return mqtt_error(ErrorCode::kZeroPacketId, "packet identifier 0 [MQTT-2.3.1-1]");
  return {};
}

MqttStatus expect_end(const ByteReader& r) {
  if (!r.empty()) return mqtt_error(ErrorCode::kTrailingBytes, "bytes after the last field");
  return {};
}

MqttResult<Packet> decode_connect(ByteReader& r, const Limits& limits) {
  std::string_view name;
  ByteSpan name_bytes;
  ARMORED_TRY(read_binary(r, name_bytes));
  name = as_string(name_bytes);
  if (name != kProtocolName) {
    return mqtt_error(ErrorCode::kInvalidProtocolName,
                      "protocol name is not \"MQTT\" [MQTT-3.1.2-1]");
  }
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  Connect c;
  if (!r.read_u8(level) || !r.read_u8(flags)) return truncated();
  if (level != kProtocolLevel) {
    return mqtt_error(ErrorCode::kUnsupportedProtocolLevel,
                      "protocol level is not 4 [MQTT-3.1.2-2]");
  }
  if (flags & 0x01)
    return mqtt_error(ErrorCode::kInvalidConnectFlags, "reserved connect flag set [MQTT-3.1.2-3]");
  const bool will = flags & 0x04;
  const std::uint8_t will_qos = (flags >> 3) & 0x3;
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  if (!will && (will_qos != 0 || will_retain)) {
    return mqtt_error(ErrorCode::kInvalidConnectFlags,
                      "will QoS/retain without will flag [MQTT-3.1.2-13]");
  }
  if (will_qos == 3)
    return mqtt_error(ErrorCode::kInvalidConnectFlags, "will QoS 3 [MQTT-3.1.2-14]");
  if (will_qos == 2) return mqtt_error(ErrorCode::kQos2Unsupported, "will QoS 2 not supported");
  if (has_password && !has_username) {
    return mqtt_error(ErrorCode::kInvalidConnectFlags,
                      "password without user name [MQTT-3.1.2-22]");
  }
  c.clean_session = flags & 0x02;
  ARMORED_TRY(read_u16(r, c.keep_alive_s));
  ARMORED_TRY(read_utf8(r, c.client_id));  // first payload field [MQTT-3.1.3-3]
  if (c.client_id.size() > limits.max_client_id_length) {
    return mqtt_error(ErrorCode::kInvalidClientId, "client identifier too long");
  }
  if (will) {
    Will w;
    ARMORED_TRY(read_topic_bytes(r, w.topic));
    ARMORED_TRY(validate_topic_name(w.topic, limits.max_topic_length));
    ARMORED_TRY(read_binary(r, w.message));
    if (w.message.size() > limits.max_payload_size) {
      return mqtt_error(ErrorCode::kPayloadTooLarge, "will message above limit");
    }
    w.qos = static_cast<QoS>(will_qos);
    w.retain = will_retain;
    c.will = w;
  }
  if (has_username) {
    std::string_view user;
    ARMORED_TRY(read_utf8(r, user));
    if (user.size() > limits.max_credential_length) {
      return mqtt_error(ErrorCode::kFieldTooLarge, "user name above limit");
    }
    c.username = user;
  }
  if (has_password) {
    ByteSpan pw;
    ARMORED_TRY(read_binary(r, pw));
    if (pw.size() > limits.max_credential_length) {
      return mqtt_error(ErrorCode::kFieldTooLarge, "password above limit");
    }
    c.password = pw;
  }
  ARMORED_TRY(expect_end(r));
  return Packet{std::move(c)};
}

MqttResult<Packet> decode_connack(ByteReader& r) {
  std::uint8_t ack_flags = 0;
  std::uint8_t code = 0;
  if (!r.read_u8(ack_flags) || !r.read_u8(code)) return truncated();
  ARMORED_TRY(expect_end(r));
  if (ack_flags & 0xFE)
    return mqtt_error(ErrorCode::kInvalidFlags, "reserved CONNACK flags set [MQTT-3.2.2-1]");
  if (code > 5) return mqtt_error(ErrorCode::kInvalidReturnCode, "CONNACK return code above 5");
  ConnAck a{(ack_flags & 1) != 0, static_cast<ConnectReturnCode>(code)};
  if (a.session_present && a.code != ConnectReturnCode::kAccepted) {
    return mqtt_error(ErrorCode::kInvalidFlags,
                      "session present on a refused CONNACK [MQTT-3.2.2-4]");
  }
  return Packet{a};
}

MqttResult<Packet> decode_publish(std::uint8_t flags, ByteReader& r, const Limits& limits) {
  Publish p;
  p.retain = flags & 0x1;
  p.qos = static_cast<QoS>((flags >> 1) & 0x3);  // 0 or 1: parse_fixed_header refused others
  p.dup = flags & 0x8;
  ARMORED_TRY(read_topic_bytes(r, p.topic));
  ARMORED_TRY(validate_topic_name(p.topic, limits.max_topic_length));
  if (p.qos != QoS::kAtMostOnce) ARMORED_TRY(read_packet_id(r, p.packet_id));
  p.payload = r.rest();
  if (p.payload.size() > limits.max_payload_size) {
    return mqtt_error(ErrorCode::kPayloadTooLarge, "PUBLISH payload above limit");
  }
  return Packet{p};
}

MqttResult<Packet> decode_subscribe(ByteReader& r, const Limits& limits) {
  Subscribe s;
  ARMORED_TRY(read_packet_id(r, s.packet_id));
  if (r.empty())
    return mqtt_error(ErrorCode::kEmptySubscription,
                      "SUBSCRIBE without topic filters [MQTT-3.8.3-3]");
  while (!r.empty()) {
    if (s.topics.size() == limits.max_topics_per_packet) {
      return mqtt_error(ErrorCode::kTooManyTopics, "too many topic filters in SUBSCRIBE");
    }
    TopicRequest t;
    ARMORED_TRY(read_topic_bytes(r, t.filter));
    ARMORED_TRY(validate_topic_filter(t.filter, limits.max_topic_length));
    std::uint8_t qos = 0;
    if (!r.read_u8(qos)) return truncated();
    if (qos > 2)
      return mqtt_error(ErrorCode::kInvalidQos, "requested QoS byte invalid [MQTT-3.8.3-4]");
    t.qos = static_cast<QoS>(qos);
    s.topics.push_back(t);
  }
  return Packet{std::move(s)};
}

MqttResult<Packet> decode_suback(ByteReader& r) {
  SubAck a;
  ARMORED_TRY(read_packet_id(r, a.packet_id));
  if (r.empty()) return mqtt_error(ErrorCode::kEmptySubscription, "SUBACK without return codes");
  std::uint8_t code = 0;
  while (r.read_u8(code)) {
    if (code > 2 && code != 0x80) {
      return mqtt_error(ErrorCode::kInvalidReturnCode,
                        "SUBACK return code reserved [MQTT-3.9.3-2]");
    }
    a.codes.push_back(static_cast<SubAckCode>(code));
  }
  return Packet{std::move(a)};
}

MqttResult<Packet> decode_unsubscribe(ByteReader& r, const Limits& limits) {
  Unsubscribe u;
  ARMORED_TRY(read_packet_id(r, u.packet_id));
  if (r.empty()) {
    return mqtt_error(ErrorCode::kEmptySubscription,
                      "UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]");
  }
  while (!r.empty()) {
    if (u.filters.size() == limits.max_topics_per_packet) {
      return mqtt_error(ErrorCode::kTooManyTopics, "too many topic filters in UNSUBSCRIBE");
    }
    std::string_view f;
    ARMORED_TRY(read_topic_bytes(r, f));
    ARMORED_TRY(validate_topic_filter(f, limits.max_topic_length));
    u.filters.push_back(f);
  }
  return Packet{std::move(u)};
}

template <typename Ack>
MqttResult<Packet> decode_id_only(ByteReader& r) {
  Ack a;
  ARMORED_TRY(read_packet_id(r, a.packet_id));
  ARMORED_TRY(expect_end(r));
  return Packet{a};
}

template <typename Empty>
MqttResult<Packet> decode_empty(const ByteReader& r) {
  ARMORED_TRY(expect_end(r));
  return Packet{Empty{}};
}

}  // namespace

MqttResult<Packet> decode_body(const FixedHeader& header, ByteSpan body, const Limits& limits) {
  ByteReader r(body);
  switch (static_cast<PacketType>(header.first_byte >> 4)) {
    case PacketType::kConnect:
      return decode_connect(r, limits);
    case PacketType::kConnAck:
      return decode_connack(r);
    case PacketType::kPublish:
      return decode_publish(header.first_byte & 0x0F, r, limits);
    case PacketType::kPubAck:
      return decode_id_only<PubAck>(r);
    case PacketType::kSubscribe:
      return decode_subscribe(r, limits);
    case PacketType::kSubAck:
      return decode_suback(r);
    case PacketType::kUnsubscribe:
      return decode_unsubscribe(r, limits);
    case PacketType::kUnsubAck:
      return decode_id_only<UnsubAck>(r);
    case PacketType::kPingReq:
      return decode_empty<PingReq>(r);
    case PacketType::kPingResp:
      return decode_empty<PingResp>(r);
    case PacketType::kDisconnect:
      return decode_empty<Disconnect>(r);
    default:
      break;
  }
  return mqtt_error(ErrorCode::kUnsupportedPacketType, "packet type not supported");
}

}  // namespace armored::mqtt
