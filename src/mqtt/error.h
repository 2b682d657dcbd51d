#pragma once
// Typed errors of the MQTT codec and sessions. Every rejection names what was
// wrong (code) and why (a short static message, often citing the MQTT 3.1.1
// conformance statement). Counters tally errors by code so operators can see
// what peers send wrong without logging their data.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace armored::mqtt {

enum class ErrorCode : std::uint8_t {
  // Framing (fixed header).
  kMalformedRemainingLength,   // varint longer than 4 bytes
  kNonMinimalRemainingLength,  // varint with a redundant trailing 0x80/0x00 byte
  kRemainingLengthTooLarge,    // above Limits::max_remaining_length
  kPacketTooLarge,             // whole packet above Limits::max_packet_size
  kReservedPacketType,         // type 0 or 15
  kUnsupportedPacketType,      // PUBREC/PUBREL/PUBCOMP: QoS 2 flow not supported
  kInvalidFlags,               // reserved fixed-header flag bits [MQTT-2.2.2-1]
  // Field content.
  kTruncated,                 // a field runs past the end of the packet
  kTrailingBytes,             // bytes left after the last field
  kInvalidQos,                // QoS 3 [MQTT-3.3.1-4] or reserved bits in requested QoS
  kQos2Unsupported,           // QoS 2 PUBLISH (we implement QoS 0 and 1 only)
  kDupWithQos0,               // DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]
  kInvalidUtf8,               // ill-formed UTF-8, surrogate or U+0000 [MQTT-1.5.3-1/2]
  kInvalidProtocolName,       // not "MQTT" [MQTT-3.1.2-1]
  kUnsupportedProtocolLevel,  // not 4 [MQTT-3.1.2-2]
  kInvalidConnectFlags,       // reserved bit, will/password flag rules [MQTT-3.1.2-3]
  kInvalidClientId,           // too long, or empty without clean session
  kInvalidTopicName,          // empty, too long, or wildcard in a PUBLISH topic
  kInvalidTopicFilter,        // empty, too long, or misplaced wildcard
  kZeroPacketId,              // packet identifier 0 [MQTT-2.3.1-1]
  kEmptySubscription,         // SUBSCRIBE/UNSUBSCRIBE without a topic [MQTT-3.8.3-3]
  kTooManyTopics,             // more topics in one packet than Limits allow
  kPayloadTooLarge,           // PUBLISH payload or will message above Limits
  kFieldTooLarge,             // user name or password above Limits
  kInvalidReturnCode,         // CONNACK/SUBACK code outside the table
  // Encoding.
  kBufferTooSmall,
  kInvalidArgument,
  // Session.
  kUnexpectedPacket,  // packet not declared for the current state
  kSecondConnect,     // [MQTT-3.1.0-2]
  kUnknownPacketId,   // ack for an identifier we are not waiting for
  kInflightWindowFull,
  kKeepAliveTimeout,  // [MQTT-3.1.2-24]
  kConnectTimeout,
  kConnectionRefused,  // CONNACK with a non-zero return code
  kNotConnected,       // action not allowed in the current state
  kCount
};

inline constexpr std::size_t kErrorCodeCount = static_cast<std::size_t>(ErrorCode::kCount);

struct Error {
  ErrorCode code = ErrorCode::kInvalidArgument;
  std::string_view message;  // static text; never peer data
};

template <typename T>
using MqttResult = Result<T, Error>;
using MqttStatus = Result<void, Error>;

inline Unexpected<Error> mqtt_error(ErrorCode code, std::string_view message) {
  return {Error{code, message}};
}

// Stable snake_case name of a code, for status lines and metrics.
std::string_view to_string(ErrorCode code);

// The general error, component "mqtt", code to_string(code): a peer or a
// session failed at run time (exit 1).
inline armored::Error to_error(const Error& e) {
  return {std::string(e.message), "mqtt", to_string(e.code), ErrorKind::kFailed};
}

// Errors counted by code. Not thread-safe: one per decoder or session; the
// application sums them if it wants totals.
class ErrorCounters {
 public:
  void record(ErrorCode code) { ++counts_[static_cast<std::size_t>(code)]; }
  std::uint64_t count(ErrorCode code) const { return counts_[static_cast<std::size_t>(code)]; }
  std::uint64_t total() const {
    std::uint64_t t = 0;
    for (auto c : counts_) t += c;
    return t;
  }
  void add(const ErrorCounters& other) {
    for (std::size_t i = 0; i < kErrorCodeCount; ++i) counts_[i] += other.counts_[i];
  }

 private:
  std::array<std::uint64_t, kErrorCodeCount> counts_{};
};

}  // namespace armored::mqtt
