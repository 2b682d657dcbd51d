#pragma once
// MQTT 3.1.1 wire codec. Decoding is strict: every length is checked against
// Limits before it is trusted, reserved bits must hold their listed values,
// and strings must be valid UTF-8. Encoders write into caller buffers and
// refuse to emit a packet a strict peer would reject.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "mqtt/error.h"
#include "mqtt/limits.h"
#include "mqtt/packets.h"

namespace armored::mqtt {

struct FixedHeader {
  std::uint8_t first_byte = 0;         // type (high nibble) and flags (low nibble)
  std::uint32_t remaining_length = 0;  // body length
  std::size_t header_size = 0;         // 2..5 bytes
};

// Parses the fixed header at the start of `in`. Returns nullopt when more
// bytes are needed. Fails with kReservedPacketType, kUnsupportedPacketType,
// kInvalidFlags, kInvalidQos, kQos2Unsupported, kDupWithQos0,
// kMalformedRemainingLength, kNonMinimalRemainingLength,
// kRemainingLengthTooLarge or kPacketTooLarge, all before the body arrives.
MqttResult<std::optional<FixedHeader>> parse_fixed_header(ByteSpan in, const Limits& limits);

// Decodes the body of one packet whose fixed header was accepted by
// parse_fixed_header. Views in the result point into `body`.
MqttResult<Packet> decode_body(const FixedHeader& header, ByteSpan body, const Limits& limits);

struct DecodedFrame {
  std::size_t consumed = 0;  // bytes of `in` this packet occupied
  Packet packet;
};

// Decodes one packet from the start of `in` without copying; nullopt when the
// packet is not complete yet. Views in the packet point into `in`.
MqttResult<std::optional<DecodedFrame>> decode_frame(ByteSpan in, const Limits& limits);

// Exact number of bytes encode() will write, or the error it would return.
MqttResult<std::size_t> encoded_size(const Packet& packet);

// Encodes `packet` into `out`; returns the bytes written. Fails with
// kBufferTooSmall, kQos2Unsupported, kZeroPacketId, kInvalidTopicName,
// kInvalidTopicFilter, kInvalidUtf8, kEmptySubscription or kInvalidArgument
// (field longer than 65,535 bytes, packet above the protocol maximum).
MqttResult<std::size_t> encode(const Packet& packet, MutableByteSpan out);

// PUBLISH encoder without the variant, for the hot path.
MqttResult<std::size_t> encode_publish(const Publish& publish, MutableByteSpan out);

// Appends the encoding of `packet` to `out` (control-path convenience).
MqttStatus append_packet(const Packet& packet, Bytes& out);

// Size of the Remaining Length encoding of `value` (1..4), 0 if above the
// protocol maximum.
std::size_t remaining_length_size(std::uint32_t value);

}  // namespace armored::mqtt
