#pragma once
// The device-to-gateway datagram protocol (docs/e3-protocol.md, "Gateway
// ingress"). A device sends one E3 message per UDP datagram: an uplink
// envelope or an epoch announcement. The gateway, which holds no E3 key,
// checks only the public header and answers with
//
//   0xC1 || header   spooled durably: the device may forget the message
//   0xC2 || header   refused (spool full): retry later
//
// where `header` echoes the message's E3 header bytes (flags, epoch id, kid,
// partial IV), which is how the device matches the answer. Downlink E3
// envelopes (commands) travel the other way unchanged.

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "e3/wire.h"

namespace armored::gateway {

inline constexpr std::uint8_t kAckSpooled = 0xC1;
inline constexpr std::uint8_t kAckRefused = 0xC2;
inline constexpr std::size_t kMaxDatagram = 1500;

enum class IngressReject : std::uint8_t { kMalformed, kNotUplink, kOversized };

struct IngressMessage {
  e3::Header header;
  ByteSpan header_bytes;  // message[0 .. header_size)
};

// Accepts an uplink envelope or an announcement; anything else is rejected.
Result<IngressMessage, IngressReject> classify_datagram(ByteSpan datagram);

// Writes the answer for a message into out_ (1 + header bytes); returns its size.
std::size_t write_answer(std::uint8_t kind, ByteSpan header_bytes, MutableByteSpan out_);

struct Answer {
  std::uint8_t kind;  // kAckSpooled or kAckRefused
  ByteSpan header_bytes;
};
// Parses an answer on the device side; nullopt for anything else (e.g. a command).
std::optional<Answer> parse_answer(ByteSpan datagram);

}  // namespace armored::gateway
