#include "e3/batch.h"

namespace armored::e3 {

std::size_t batch_size(std::span<const std::size_t> message_sizes) {
  std::size_t n = kBatchHeaderSize;
  for (std::size_t s : message_sizes) n += kBatchEntryOverhead + s;
  return n;
}

E3Result<Bytes> encode_batch(std::span<const ByteSpan> messages, const BatchLimits& limits) {
  if (messages.empty()) return e3_fail(E3Errc::kMalformed, "empty batch");
  if (messages.size() > limits.max_messages || messages.size() > 255) {
    return e3_fail(E3Errc::kOversized, "too many messages for one batch");
  }
  Bytes out;
  ByteWriter w(out);
  w.u8(kBatchMarker);
  w.u8(static_cast<std::uint8_t>(messages.size()));
  for (ByteSpan m : messages) {
    if (m.empty()) return e3_fail(E3Errc::kMalformed, "empty message in batch");
    if (m.size() > limits.max_message_size || m.size() > 0xffff) {
      return e3_fail(E3Errc::kOversized, "message too large for batch");
    }
    w.u16be(static_cast<std::uint16_t>(m.size()));
    w.bytes(m);
  }
  return out;
}

E3Result<std::vector<ByteSpan>> decode_batch(ByteSpan payload, const BatchLimits& limits) {
  ByteReader r(payload);
  std::uint8_t marker = 0;
  std::uint8_t count = 0;
  if (!r.read_u8(marker) || marker != kBatchMarker) return e3_fail(E3Errc::kMalformed, "not a batch");
  if (!r.read_u8(count)) return e3_fail(E3Errc::kMalformed, "truncated batch header");
  if (count == 0) return e3_fail(E3Errc::kMalformed, "batch with zero messages");
  if (count > limits.max_messages) return e3_fail(E3Errc::kOversized, "too many messages in batch");
  std::vector<ByteSpan> out;
  out.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    std::uint16_t len = 0;
    ByteSpan m;
    if (!r.read_u16be(len)) return e3_fail(E3Errc::kMalformed, "truncated batch entry length");
    if (len == 0) return e3_fail(E3Errc::kMalformed, "zero-length batch entry");
    if (len > limits.max_message_size) return e3_fail(E3Errc::kOversized, "batch entry too large");
    if (!r.read_bytes(len, m)) return e3_fail(E3Errc::kMalformed, "truncated batch entry");
    out.push_back(m);
  }
  if (!r.empty()) return e3_fail(E3Errc::kMalformed, "trailing bytes after batch");
  return out;
}

}  // namespace armored::e3
