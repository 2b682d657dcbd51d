#pragma once
// Link, IP and TCP decoding for `audit pcap`, without I/O: one captured
// frame in, one TCP segment (or a typed reason it is not one) out.

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::audit {

// libpcap DLT_ values this decoder understands.
inline constexpr int kDltNull = 0;        // BSD loopback, host byte order family
inline constexpr int kDltEthernet = 1;
inline constexpr int kDltRaw = 12;        // raw IP (also 101 and 14 on some systems)
inline constexpr int kDltRawAlt = 101;
inline constexpr int kDltRawOld = 14;
inline constexpr int kDltLoop = 108;      // OpenBSD loopback, network byte order family
inline constexpr int kDltLinuxSll = 113;
inline constexpr int kDltLinuxSll2 = 276;

enum class DecodeError : std::uint8_t {
  kTruncated,        // a header runs past the captured bytes
  kUnsupportedLink,  // link type not handled
  kNotIp,            // ARP, LLDP...
  kNotTcp,           // UDP, ICMP...
  kBadHeader,        // impossible length fields
  kFragment,         // IP fragment (not reassembled)
};
std::string_view decode_error_name(DecodeError e);

struct Endpoint {
  std::array<std::uint8_t, 16> addr{};
  bool v6 = false;
  std::uint16_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
  std::string to_string() const;  // "1.2.3.4:80" or "[::1]:80"
};

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpAck = 0x10;

struct TcpSegment {
  Endpoint src;
  Endpoint dst;
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;
  ByteSpan payload;  // points into the frame
};

// Decodes one frame captured with link type `dlt`.
Result<TcpSegment, DecodeError> decode_tcp_frame(int dlt, ByteSpan frame);

}  // namespace armored::audit
