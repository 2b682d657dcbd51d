// Encoders. Each packet's size is computed (and its fields validated) first,
// so the writer checks capacity once and then writes without branches.
#include <cstring>

#include "mqtt/codec.h"
#include "mqtt/text.h"

namespace armored::mqtt {
namespace {

constexpr std::size_t kMaxField = 65'535;

// Writes into a span whose capacity was checked up front.
class SpanWriter {
 public:
  explicit SpanWriter(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { p_[n_++] = v; }
  void u16(std::uint16_t v) {
    p_[n_++] = static_cast<std::uint8_t>(v >> 8);
    p_[n_++] = static_cast<std::uint8_t>(v);
  }
  void raw(const void* d, std::size_t len) {
    if (len) std::memcpy(p_ + n_, d, len);
    n_ += len;
  }
  void field(std::string_view s) { field(as_bytes(s)); }
  void field(ByteSpan b) {
    u16(static_cast<std::uint16_t>(b.size()));
    raw(b.data(), b.size());
  }
  void remaining_length(std::uint32_t v) {
    do {
      auto b = static_cast<std::uint8_t>(v & 0x7F);
      v >>= 7;
      if (v) b |= 0x80;
      u8(b);
    } while (v);
  }
  std::size_t size() const { return n_; }

 private:
  std::uint8_t* p_;
  std::size_t n_ = 0;
};

MqttStatus check_field(std::size_t len) {
  if (len > kMaxField) return mqtt_error(ErrorCode::kInvalidArgument, "field longer than 65,535 bytes");
  return {};
}
MqttStatus check_id(std::uint16_t id) {
  if (id == 0) return mqtt_error(ErrorCode::kZeroPacketId, "packet identifier 0 [MQTT-2.3.1-1]");
  return {};
}
MqttStatus check_utf8_field(std::string_view s) {
  ARMORED_TRY(check_field(s.size()));
  return validate_utf8(s);
}

// Body sizes; each validates what it will encode.
MqttResult<std::size_t> body_size(const Connect& c) {
  std::size_t n = 2 + kProtocolName.size() + 1 + 1 + 2;
  ARMORED_TRY(check_utf8_field(c.client_id));
  n += 2 + c.client_id.size();
  if (c.will) {
    ARMORED_TRY(validate_topic_name(c.will->topic, kMaxField));
    ARMORED_TRY(check_field(c.will->message.size()));
    if (c.will->qos == QoS::kExactlyOnce) return mqtt_error(ErrorCode::kQos2Unsupported, "will QoS 2 not supported");
    n += 4 + c.will->topic.size() + c.will->message.size();
  }
  if (c.password && !c.username) {
    return mqtt_error(ErrorCode::kInvalidConnectFlags, "password without user name [MQTT-3.1.2-22]");
  }
  if (c.username) {
    ARMORED_TRY(check_utf8_field(*c.username));
    n += 2 + c.username->size();
  }
  if (c.password) {
    ARMORED_TRY(check_field(c.password->size()));
    n += 2 + c.password->size();
  }
  return n;
}

MqttResult<std::size_t> body_size(const Publish& p) {
  if (p.qos == QoS::kExactlyOnce) return mqtt_error(ErrorCode::kQos2Unsupported, "QoS 2 PUBLISH not supported");
  if (p.qos != QoS::kAtMostOnce) {
    ARMORED_TRY(check_id(p.packet_id));
  } else if (p.dup) {
    return mqtt_error(ErrorCode::kDupWithQos0, "DUP set on QoS 0 PUBLISH [MQTT-3.3.1-2]");
  }
  ARMORED_TRY(validate_topic_name(p.topic, kMaxField));
  return 2 + p.topic.size() + (p.qos == QoS::kAtMostOnce ? 0 : 2) + p.payload.size();
}

MqttResult<std::size_t> body_size(const Subscribe& s) {
  ARMORED_TRY(check_id(s.packet_id));
  if (s.topics.empty()) return mqtt_error(ErrorCode::kEmptySubscription, "SUBSCRIBE without topic filters [MQTT-3.8.3-3]");
  std::size_t n = 2;
  for (const auto& t : s.topics) {
    ARMORED_TRY(validate_topic_filter(t.filter, kMaxField));
    if (static_cast<std::uint8_t>(t.qos) > 2) return mqtt_error(ErrorCode::kInvalidQos, "requested QoS above 2");
    n += 3 + t.filter.size();
  }
  return n;
}

MqttResult<std::size_t> body_size(const SubAck& a) {
  ARMORED_TRY(check_id(a.packet_id));
  if (a.codes.empty()) return mqtt_error(ErrorCode::kEmptySubscription, "SUBACK without return codes");
  for (auto c : a.codes) {
    const auto v = static_cast<std::uint8_t>(c);
    if (v > 2 && v != 0x80) return mqtt_error(ErrorCode::kInvalidReturnCode, "SUBACK return code reserved [MQTT-3.9.3-2]");
  }
  return 2 + a.codes.size();
}

MqttResult<std::size_t> body_size(const Unsubscribe& u) {
  ARMORED_TRY(check_id(u.packet_id));
  if (u.filters.empty()) return mqtt_error(ErrorCode::kEmptySubscription, "UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]");
  std::size_t n = 2;
  for (auto f : u.filters) {
    ARMORED_TRY(validate_topic_filter(f, kMaxField));
    n += 2 + f.size();
  }
  return n;
}

MqttResult<std::size_t> body_size(const ConnAck& a) {
  if (static_cast<std::uint8_t>(a.code) > 5) return mqtt_error(ErrorCode::kInvalidReturnCode, "CONNACK return code above 5");
  if (a.session_present && a.code != ConnectReturnCode::kAccepted) {
    return mqtt_error(ErrorCode::kInvalidArgument, "session present on a refused CONNACK [MQTT-3.2.2-4]");
  }
  return std::size_t{2};
}
MqttResult<std::size_t> body_size(const PubAck& a) {
  ARMORED_TRY(check_id(a.packet_id));
  return std::size_t{2};
}
MqttResult<std::size_t> body_size(const UnsubAck& a) {
  ARMORED_TRY(check_id(a.packet_id));
  return std::size_t{2};
}
MqttResult<std::size_t> body_size(const PingReq&) { return std::size_t{0}; }
MqttResult<std::size_t> body_size(const PingResp&) { return std::size_t{0}; }
MqttResult<std::size_t> body_size(const Disconnect&) { return std::size_t{0}; }

std::uint8_t first_byte(const Connect&) { return 0x10; }
std::uint8_t first_byte(const ConnAck&) { return 0x20; }
std::uint8_t first_byte(const Publish& p) {
  return static_cast<std::uint8_t>(0x30 | (p.dup ? 0x08 : 0) | (static_cast<std::uint8_t>(p.qos) << 1) |
                                   (p.retain ? 0x01 : 0));
}
std::uint8_t first_byte(const PubAck&) { return 0x40; }
std::uint8_t first_byte(const Subscribe&) { return 0x82; }  // [MQTT-3.8.1-1]
std::uint8_t first_byte(const SubAck&) { return 0x90; }
std::uint8_t first_byte(const Unsubscribe&) { return 0xA2; }  // [MQTT-3.10.1-1]
std::uint8_t first_byte(const UnsubAck&) { return 0xB0; }
std::uint8_t first_byte(const PingReq&) { return 0xC0; }
std::uint8_t first_byte(const PingResp&) { return 0xD0; }
std::uint8_t first_byte(const Disconnect&) { return 0xE0; }

void write_body(SpanWriter& w, const Connect& c) {
  w.field(kProtocolName);
  w.u8(kProtocolLevel);
  std::uint8_t flags = c.clean_session ? 0x02 : 0;
  if (c.will) {
    flags |= static_cast<std::uint8_t>(0x04 | (static_cast<std::uint8_t>(c.will->qos) << 3) | (c.will->retain ? 0x20 : 0));
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  w.u8(flags);
  w.u16(c.keep_alive_s);
  w.field(c.client_id);
  if (c.will) {
    w.field(c.will->topic);
    w.field(c.will->message);
  }
  if (c.username) w.field(*c.username);
  if (c.password) w.field(*c.password);
}
void write_body(SpanWriter& w, const ConnAck& a) {
  w.u8(a.session_present ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(a.code));
}
void write_body(SpanWriter& w, const Publish& p) {
  w.field(p.topic);
  if (p.qos != QoS::kAtMostOnce) w.u16(p.packet_id);
  w.raw(p.payload.data(), p.payload.size());
}
void write_body(SpanWriter& w, const PubAck& a) { w.u16(a.packet_id); }
void write_body(SpanWriter& w, const Subscribe& s) {
  w.u16(s.packet_id);
  for (const auto& t : s.topics) {
    w.field(t.filter);
    w.u8(static_cast<std::uint8_t>(t.qos));
  }
}
void write_body(SpanWriter& w, const SubAck& a) {
  w.u16(a.packet_id);
  for (auto c : a.codes) w.u8(static_cast<std::uint8_t>(c));
}
void write_body(SpanWriter& w, const Unsubscribe& u) {
  w.u16(u.packet_id);
  for (auto f : u.filters) w.field(f);
}
void write_body(SpanWriter& w, const UnsubAck& a) { w.u16(a.packet_id); }
void write_body(SpanWriter&, const PingReq&) {}
void write_body(SpanWriter&, const PingResp&) {}
void write_body(SpanWriter&, const Disconnect&) {}

template <typename P>
MqttResult<std::size_t> total_size(const P& p) {
  auto body = body_size(p);
  if (!body) return unexpected(body.error());
  if (*body > kProtocolMaxRemainingLength) {
    return mqtt_error(ErrorCode::kInvalidArgument, "packet above the protocol maximum size");
  }
  return 1 + remaining_length_size(static_cast<std::uint32_t>(*body)) + *body;
}

template <typename P>
MqttResult<std::size_t> encode_one(const P& p, MutableByteSpan out) {
  auto body = body_size(p);
  if (!body) return unexpected(body.error());
  if (*body > kProtocolMaxRemainingLength) {
    return mqtt_error(ErrorCode::kInvalidArgument, "packet above the protocol maximum size");
  }
  const auto rl = static_cast<std::uint32_t>(*body);
  const std::size_t total = 1 + remaining_length_size(rl) + *body;
  if (out.size() < total) return mqtt_error(ErrorCode::kBufferTooSmall, "output buffer too small");
  SpanWriter w(out.data());
  w.u8(first_byte(p));
  w.remaining_length(rl);
  write_body(w, p);
  return w.size();
}

}  // namespace

MqttResult<std::size_t> encoded_size(const Packet& packet) {
  return std::visit([](const auto& p) { return total_size(p); }, packet);
}

MqttResult<std::size_t> encode(const Packet& packet, MutableByteSpan out) {
  return std::visit([out](const auto& p) { return encode_one(p, out); }, packet);
}

MqttResult<std::size_t> encode_publish(const Publish& publish, MutableByteSpan out) {
  return encode_one(publish, out);
}

MqttStatus append_packet(const Packet& packet, Bytes& out) {
  auto size = encoded_size(packet);
  if (!size) return unexpected(size.error());
  const std::size_t old = out.size();
  out.resize(old + *size);
  auto written = encode(packet, MutableByteSpan(out).subspan(old));
  if (!written) {
    out.resize(old);
    return unexpected(written.error());
  }
  return {};
}

}  // namespace armored::mqtt
