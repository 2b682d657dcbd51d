#include "audit/pcap_packet.h"

#include <arpa/inet.h>

#include <cstring>

namespace armored::audit {

namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88A8;

Result<TcpSegment, DecodeError> decode_tcp(ByteReader r, Endpoint src, Endpoint dst) {
  std::uint16_t sport = 0, dport = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t off = 0, flags = 0;
  if (!r.read_u16be(sport) || !r.read_u16be(dport) || !r.read_u32be(seq) || !r.read_u32be(ack) ||
      !r.read_u8(off) || !r.read_u8(flags)) {
    return unexpected(DecodeError::kTruncated);
  }
  std::size_t header = static_cast<std::size_t>(off >> 4) * 4;
  if (header < 20) return unexpected(DecodeError::kBadHeader);
  // 8 bytes of window, checksum and urgent pointer, then options.
  if (!r.skip(header - 14)) return unexpected(DecodeError::kTruncated);
  src.port = sport;
  dst.port = dport;
  return TcpSegment{src, dst, seq, flags, r.rest()};
}

Result<TcpSegment, DecodeError> decode_ipv4(ByteSpan data) {
  ByteReader r(data);
  std::uint8_t vihl = 0, tos = 0, ttl = 0, proto = 0;
  std::uint16_t total = 0, id = 0, frag = 0, csum = 0;
  ByteSpan src, dst;
  if (!r.read_u8(vihl) || !r.read_u8(tos) || !r.read_u16be(total) || !r.read_u16be(id) ||
      !r.read_u16be(frag) || !r.read_u8(ttl) || !r.read_u8(proto) || !r.read_u16be(csum) ||
      !r.read_bytes(4, src) || !r.read_bytes(4, dst)) {
    return unexpected(DecodeError::kTruncated);
  }
  std::size_t ihl = static_cast<std::size_t>(vihl & 0x0f) * 4;
  if ((vihl >> 4) != 4 || ihl < 20 || total < ihl) return unexpected(DecodeError::kBadHeader);
  if ((frag & 0x3fff) != 0) return unexpected(DecodeError::kFragment);  // MF or offset
  if (proto != 6) return unexpected(DecodeError::kNotTcp);
  // Trim Ethernet padding; a capture cut short (snaplen) keeps what it has.
  ByteSpan packet = data.first(std::min<std::size_t>(data.size(), total));
  if (packet.size() < ihl) return unexpected(DecodeError::kTruncated);
  Endpoint s, d;
  std::memcpy(s.addr.data(), src.data(), 4);
  std::memcpy(d.addr.data(), dst.data(), 4);
  return decode_tcp(ByteReader(packet.subspan(ihl)), s, d);
}

Result<TcpSegment, DecodeError> decode_ipv6(ByteSpan data) {
  ByteReader r(data);
  std::uint32_t vtf = 0;
  std::uint16_t plen = 0;
  std::uint8_t next = 0, hops = 0;
  ByteSpan src, dst;
  if (!r.read_u32be(vtf) || !r.read_u16be(plen) || !r.read_u8(next) || !r.read_u8(hops) ||
      !r.read_bytes(16, src) || !r.read_bytes(16, dst)) {
    return unexpected(DecodeError::kTruncated);
  }
  if ((vtf >> 28) != 6) return unexpected(DecodeError::kBadHeader);
  ByteSpan payload = r.rest().first(std::min<std::size_t>(r.remaining(), plen));
  ByteReader p(payload);
  // Skip the extension headers that may precede TCP (bounded count).
  for (int i = 0; i < 8 && next != 6; ++i) {
    if (next == 44) return unexpected(DecodeError::kFragment);
    if (next != 0 && next != 43 && next != 60) return unexpected(DecodeError::kNotTcp);
    std::uint8_t nh = 0, len = 0;
    if (!p.read_u8(nh) || !p.read_u8(len) || !p.skip(static_cast<std::size_t>(len) * 8 + 6)) {
      return unexpected(DecodeError::kTruncated);
    }
    next = nh;
  }
  if (next != 6) return unexpected(DecodeError::kNotTcp);
  Endpoint s, d;
  s.v6 = d.v6 = true;
  std::memcpy(s.addr.data(), src.data(), 16);
  std::memcpy(d.addr.data(), dst.data(), 16);
  return decode_tcp(p, s, d);
}

Result<TcpSegment, DecodeError> decode_ethertype(std::uint16_t type, ByteSpan rest) {
  if (type == kEtherIpv4) return decode_ipv4(rest);
  if (type == kEtherIpv6) return decode_ipv6(rest);
  return unexpected(DecodeError::kNotIp);
}

Result<TcpSegment, DecodeError> decode_by_version(ByteSpan rest) {
  if (rest.empty()) return unexpected(DecodeError::kTruncated);
  if ((rest[0] >> 4) == 4) return decode_ipv4(rest);
  if ((rest[0] >> 4) == 6) return decode_ipv6(rest);
  return unexpected(DecodeError::kNotIp);
}

}  // namespace

std::string_view decode_error_name(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated: return "truncated";
    case DecodeError::kUnsupportedLink: return "unsupported_link";
    case DecodeError::kNotIp: return "not_ip";
    case DecodeError::kNotTcp: return "not_tcp";
    case DecodeError::kBadHeader: return "bad_header";
    case DecodeError::kFragment: return "ip_fragment";
  }
  return "unknown";
}

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof(buf));
  return v6 ? "[" + std::string(buf) + "]:" + std::to_string(port)
            : std::string(buf) + ":" + std::to_string(port);
}

Result<TcpSegment, DecodeError> decode_tcp_frame(int dlt, ByteSpan frame) {
  ByteReader r(frame);
  switch (dlt) {
    case kDltEthernet: {
      std::uint16_t type = 0;
      if (!r.skip(12) || !r.read_u16be(type)) return unexpected(DecodeError::kTruncated);
      for (int tags = 0; (type == kEtherVlan || type == kEtherQinQ) && tags < 2; ++tags) {
        if (!r.skip(2) || !r.read_u16be(type)) return unexpected(DecodeError::kTruncated);
      }
      return decode_ethertype(type, r.rest());
    }
    case kDltLinuxSll: {
      std::uint16_t type = 0;
      if (!r.skip(14) || !r.read_u16be(type)) return unexpected(DecodeError::kTruncated);
      return decode_ethertype(type, r.rest());
    }
    case kDltLinuxSll2: {
      std::uint16_t type = 0;
      if (!r.read_u16be(type) || !r.skip(18)) return unexpected(DecodeError::kTruncated);
      return decode_ethertype(type, r.rest());
    }
    case kDltNull:
    case kDltLoop: {
      // The family is a 4-byte word; IPv4 is 2 everywhere, IPv6 varies by OS,
      // so the IP version nibble decides.
      if (!r.skip(4)) return unexpected(DecodeError::kTruncated);
      return decode_by_version(r.rest());
    }
    case kDltRaw:
    case kDltRawAlt:
    case kDltRawOld:
      return decode_by_version(frame);
    default:
      return unexpected(DecodeError::kUnsupportedLink);
  }
}

}  // namespace armored::audit
