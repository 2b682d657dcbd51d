// Stable names for codes and packet types (status lines, metrics, tests).
#include "mqtt/error.h"
#include "mqtt/packets.h"

namespace armored::mqtt {

std::string_view to_string(ErrorCode code) {
  static constexpr std::string_view kNames[] = {
      "malformed_remaining_length", "non_minimal_remaining_length", "remaining_length_too_large",
      "packet_too_large", "reserved_packet_type", "unsupported_packet_type", "invalid_flags",
      "truncated", "trailing_bytes", "invalid_qos", "qos2_unsupported", "dup_with_qos0",
      "invalid_utf8", "invalid_protocol_name", "unsupported_protocol_level",
      "invalid_connect_flags", "invalid_client_id", "invalid_topic_name", "invalid_topic_filter",
      "zero_packet_id", "empty_subscription", "too_many_topics", "payload_too_large",
      "field_too_large", "invalid_return_code", "buffer_too_small", "invalid_argument",
      "unexpected_packet", "second_connect", "unknown_packet_id", "inflight_window_full",
      "keep_alive_timeout", "connect_timeout", "connection_refused", "not_connected"};
  static_assert(std::size(kNames) == kErrorCodeCount, "one name per ErrorCode");
  const auto i = static_cast<std::size_t>(code);
  return i < kErrorCodeCount ? kNames[i] : "unknown";
}

PacketType packet_type(const Packet& p) {
  static constexpr PacketType kTypes[] = {
      PacketType::kConnect, PacketType::kConnAck, PacketType::kPublish, PacketType::kPubAck,
      PacketType::kSubscribe, PacketType::kSubAck, PacketType::kUnsubscribe, PacketType::kUnsubAck,
      PacketType::kPingReq, PacketType::kPingResp, PacketType::kDisconnect};
  static_assert(std::size(kTypes) == std::variant_size_v<Packet>, "one type per alternative");
  return kTypes[p.index()];
}

std::string_view to_string(PacketType t) {
  static constexpr std::string_view kNames[] = {
      "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
      "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED"};
  return kNames[static_cast<std::uint8_t>(t) & 0x0F];
}

}  // namespace armored::mqtt
