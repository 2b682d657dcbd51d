#pragma once
// The E3 wire format (docs/e3-protocol.md section 3): a compact header in the
// style of the OSCORE option, then ciphertext || tag. Parsing is pure and
// never needs keys, so a gateway can inspect envelopes it cannot open.
//
//   byte 0   flags: bits 7-6 message type, bits 5-3 kid length - 1,
//                   bits 2-0 partial IV length (data) or 0 (announcement)
//   byte 1   epoch id: epoch number mod 256
//   kid      1..8 bytes, the device's pseudonymous key ID
//   PIV      1..5 bytes, minimal big-endian sequence number (data only)
//   rest     data: ciphertext || tag; announcement: COSE_Sign1 body

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "e3/error.h"

namespace armored::e3 {

enum class MessageType : std::uint8_t {
  kUplink = 0,        // data, device -> cloud (readings)
  kDownlink = 1,      // data, cloud -> device (commands)
  kAnnouncement = 2,  // epoch announcement, device -> cloud
};

inline constexpr std::size_t kMinKidSize = 1;
inline constexpr std::size_t kMaxKidSize = 8;
inline constexpr std::size_t kMaxPartialIvSize = 5;
inline constexpr std::uint64_t kMaxSequence = (std::uint64_t{1} << 40) - 1;
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxHeaderSize = 2 + kMaxKidSize + kMaxPartialIvSize;

// The flags byte that starts every E3 header (section 3): bits 7-6 message
// type, bits 5-3 kid length - 1, bits 2-0 partial IV length. The only code
// that knows the bit layout; these read and write the fields, parse_header()
// decides whether their values are allowed.

// The message type, or nullopt for the reserved type 3 (section 3; the
// first byte of a batch, 0xC0, and of a gateway's answer, 0xC1..0xC3).
constexpr std::optional<MessageType> flags_type(std::uint8_t flags) {
  const unsigned type = flags >> 6;
  if (type > static_cast<unsigned>(MessageType::kAnnouncement)) return std::nullopt;
  return static_cast<MessageType>(type);
}
// The kid length, 1..8.
constexpr std::size_t flags_kid_size(std::uint8_t flags) { return ((flags >> 3) & 0x07u) + 1; }
// The partial IV length as written, 0..7 (only 1..5 are valid, and 0 only for
// an announcement).
constexpr std::size_t flags_partial_iv_size(std::uint8_t flags) { return flags & 0x07u; }
// The flags byte for these fields: kid_size 1..8, partial_iv_size 0..7.
constexpr std::uint8_t make_flags(MessageType type, std::size_t kid_size, std::size_t partial_iv_size) {
  return static_cast<std::uint8_t>((static_cast<unsigned>(type) << 6) | ((kid_size - 1) << 3) | partial_iv_size);
}

struct Header {
  MessageType type = MessageType::kUplink;
  std::uint8_t epoch_id = 0;
  ByteSpan kid;
  ByteSpan partial_iv;       // empty for announcements
  std::uint64_t sequence = 0;
  std::size_t header_size = 0;
  ByteSpan body;             // ciphertext || tag, or the announcement body
};

// Parses the header of any E3 message. kMalformed (with the reason) for a
// reserved type, zero or over-long lengths, a non-minimal partial IV, a
// truncated header, or a data message with no bytes after the header.
E3Result<Header> parse_header(ByteSpan message);

// Writes a data header; returns its size. out_ must hold kMaxHeaderSize bytes.
std::size_t write_data_header(MessageType type, std::uint8_t epoch_id, ByteSpan kid, std::uint64_t seq,
                              MutableByteSpan out_);

// Exact bytes on the wire of a data envelope for the given plaintext size,
// AEAD, kid length and sequence number (which fixes the partial IV length).
std::size_t sealed_size(crypto::AeadAlg alg, std::size_t plaintext_size, std::size_t kid_size,
                        std::uint64_t sequence);
// Upper bound over all sequence numbers below `max_sequence`.
std::size_t max_sealed_size(crypto::AeadAlg alg, std::size_t plaintext_size, std::size_t kid_size,
                            std::uint64_t max_sequence = kMaxSequence);

inline constexpr std::size_t kMaxAadSize = 64;

// AAD = CBOR Enc_structure ["Encrypt0", h'', external_aad] with
// external_aad = bstr .cbor [1, [alg], kid, piv, epoch, type]. Written into
// a caller buffer of kMaxAadSize bytes; returns the size.
std::size_t write_aad(crypto::AeadAlg alg, ByteSpan kid, ByteSpan partial_iv, std::uint32_t epoch,
                      MessageType type, MutableByteSpan out_);

}  // namespace armored::e3
