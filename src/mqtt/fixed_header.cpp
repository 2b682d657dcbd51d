// Fixed header (MQTT 3.1.1 section 2.2): type, flags, Remaining Length.
#include "mqtt/codec.h"

namespace armored::mqtt {
namespace {

// Flags each packet type must carry (table 2.2); PUBLISH is checked apart.
constexpr std::uint8_t kRequiredFlags[16] = {
    0xFF, 0x0, 0x0, 0xFF, 0x0, 0x0, 0x2, 0x0, 0x2, 0x0, 0x2, 0x0, 0x0, 0x0, 0x0, 0xFF};

MqttStatus check_type_and_flags(std::uint8_t first_byte) {
  const std::uint8_t type = first_byte >> 4;
  const std::uint8_t flags = first_byte & 0x0F;
  if (type == 0 || type == 15) {
    return mqtt_error(ErrorCode::kReservedPacketType, "reserved packet type 0 or 15");
  }
  const auto t = static_cast<PacketType>(type);
  if (t == PacketType::kPubRec || t == PacketType::kPubRel || t == PacketType::kPubComp) {
    return mqtt_error(ErrorCode::kUnsupportedPacketType, "QoS 2 flow (PUBREC/PUBREL/PUBCOMP) not supported");
  }
  if (t == PacketType::kPublish) {
    const std::uint8_t qos = (flags >> 1) & 0x3;
    if (qos == 3) return mqtt_error(ErrorCode::kInvalidQos, "PUBLISH with QoS 3 [MQTT-3.3.1-4]");
    if (qos == 2) return mqtt_error(ErrorCode::kQos2Unsupported, "PUBLISH with QoS 2 not supported");
    if (qos == 0 && (flags & 0x8)) {
      return mqtt_error(ErrorCode::kDupWithQos0, "DUP set on QoS 0 PUBLISH [MQTT-3.3.1-2]");
    }
    return {};
  }
  if (flags != kRequiredFlags[type]) {
    return mqtt_error(ErrorCode::kInvalidFlags, "reserved fixed-header flags [MQTT-2.2.2-1]");
  }
  return {};
}

}  // namespace

std::size_t remaining_length_size(std::uint32_t value) {
  if (value < 128u) return 1;
  if (value < 16'384u) return 2;
  if (value < 2'097'152u) return 3;
  if (value <= kProtocolMaxRemainingLength) return 4;
  return 0;
}

MqttResult<std::optional<FixedHeader>> parse_fixed_header(ByteSpan in, const Limits& limits) {
  if (in.empty()) return std::optional<FixedHeader>{};
  FixedHeader h;
  h.first_byte = in[0];
  ARMORED_TRY(check_type_and_flags(h.first_byte));
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (1 + i >= in.size()) return std::optional<FixedHeader>{};  // need more bytes
    const std::uint8_t b = in[1 + i];
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
    if (b & 0x80) continue;
    if (i > 0 && b == 0) {
      return mqtt_error(ErrorCode::kNonMinimalRemainingLength, "Remaining Length not minimally encoded");
    }
    h.remaining_length = value;
    h.header_size = 2 + i;
    if (value > limits.max_remaining_length) {
      return mqtt_error(ErrorCode::kRemainingLengthTooLarge, "Remaining Length above limit");
    }
    if (h.header_size + value > limits.max_packet_size) {
      return mqtt_error(ErrorCode::kPacketTooLarge, "packet above maximum size");
    }
    return std::optional<FixedHeader>{h};
  }
  return mqtt_error(ErrorCode::kMalformedRemainingLength, "Remaining Length longer than 4 bytes");
}

MqttResult<std::optional<DecodedFrame>> decode_frame(ByteSpan in, const Limits& limits) {
  auto header = parse_fixed_header(in, limits);
  if (!header) return unexpected(header.error());
  if (!header->has_value()) return std::optional<DecodedFrame>{};
  const FixedHeader& h = **header;
  const std::size_t total = h.header_size + h.remaining_length;
  if (in.size() < total) return std::optional<DecodedFrame>{};
  auto packet = decode_body(h, in.subspan(h.header_size, h.remaining_length), limits);
  if (!packet) return unexpected(packet.error());
  return std::optional<DecodedFrame>{DecodedFrame{total, std::move(*packet)}};
}

}  // namespace armored::mqtt
