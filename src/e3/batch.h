#pragma once
// Batch framing (docs/e3-protocol.md section 7): several E3 messages in one
// MQTT PUBLISH. The first byte 0xC0 uses the reserved message type 3, so a
// payload is unambiguously one message or one batch.
//
//   0xC0 || count (1 byte, 1..255) || count x ( length (2 bytes BE) || message )

#include <span>
#include <vector>

#include "common/bytes.h"
#include "e3/error.h"

namespace armored::e3 {

inline constexpr std::uint8_t kBatchMarker = 0xC0;
inline constexpr std::size_t kBatchHeaderSize = 2;
inline constexpr std::size_t kBatchEntryOverhead = 2;

struct BatchLimits {
  std::size_t max_messages = 64;
  std::size_t max_message_size = 4096;
};

inline bool is_batch(ByteSpan payload) { return !payload.empty() && payload[0] == kBatchMarker; }

// Size of a batch holding messages of the given sizes.
std::size_t batch_size(std::span<const std::size_t> message_sizes);

// Frames the messages. kOversized if over the limits, kMalformed for an empty
// list or an empty message.
E3Result<Bytes> encode_batch(std::span<const ByteSpan> messages, const BatchLimits& limits = {});

// Splits a batch into spans pointing into `payload`. kMalformed for a wrong
// marker, count 0, a zero length, truncation or trailing bytes; kOversized
// when over the limits.
E3Result<std::vector<ByteSpan>> decode_batch(ByteSpan payload, const BatchLimits& limits = {});

}  // namespace armored::e3
