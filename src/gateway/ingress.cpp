#include "gateway/ingress.h"

#include <algorithm>

namespace armored::gateway {

Result<IngressMessage, IngressReject> classify_datagram(ByteSpan d) {
  if (d.size() > kMaxDatagram) return unexpected(IngressReject::kOversized);
  auto h = e3::parse_header(d);
  if (!h) return unexpected(IngressReject::kMalformed);
  if (h->type != e3::MessageType::kUplink && h->type != e3::MessageType::kAnnouncement) {
    return unexpected(IngressReject::kNotUplink);
  }
  return IngressMessage{*h, d.first(h->header_size)};
}

std::size_t write_answer(std::uint8_t kind, ByteSpan header_bytes, MutableByteSpan out_) {
  if (out_.size() < 1 + header_bytes.size()) return 0;
  out_[0] = kind;
  std::copy(header_bytes.begin(), header_bytes.end(), out_.begin() + 1);
  return 1 + header_bytes.size();
}

std::optional<Answer> parse_answer(ByteSpan d) {
  // The device matches the echoed header byte for byte against what it sent,
  // so only the shape is checked here.
  if (d.size() < 3 || d.size() > 1 + e3::kMaxHeaderSize) return std::nullopt;
  if (d[0] != kAckSpooled && d[0] != kAckRefused) return std::nullopt;
  return Answer{d[0], d.subspan(1)};
}

}  // namespace armored::gateway
