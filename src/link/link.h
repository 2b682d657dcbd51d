#pragma once
// The device-gateway link (docs/e3-protocol.md section 9.1, "Gateway
// ingress"), both ends of it: the gateway classifies datagrams and packs
// answers, the device parses them. Sans-I/O: bytes in, bytes or a typed
// error out; the sockets belong to the gateway and the device (batched by
// udp_batch/udp_batch.h).
//
// A device sends one E3 message per UDP datagram: an uplink envelope or an
// epoch announcement. The gateway, which holds no E3 key, checks only the
// public header and answers with
//
//   0xC1 || header   spooled durably: the device may forget the message
//   0xC2 || header   refused (spool full): retry later
//
// where `header` echoes the message's E3 header bytes (flags, epoch id, kid,
// partial IV), which is how the device matches the answer. When one burst
// holds several accepted messages from the same UDP source (a hub relaying
// several sensors, a fleet simulator on one socket), the gateway packs their
// answers into one datagram instead:
//
//   0xC3 || entry{2..}     entry = kind (0xC1 or 0xC2) || header
//
// Each header is self-delimiting (its flags give the kid and partial IV
// lengths); a packed answer is at most kMaxPackedAnswer bytes. Downlink E3
// envelopes (commands) travel the other way unchanged. E3 flags never start
// with the bits 11, so an answer is never mistaken for an envelope.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "e3/wire.h"

namespace armored::link {

inline constexpr std::uint8_t kAckSpooled = 0xC1;
inline constexpr std::uint8_t kAckRefused = 0xC2;
inline constexpr std::uint8_t kAckPacked = 0xC3;
inline constexpr std::size_t kMaxDatagram = 1500;
// Below the IPv6 minimum MTU less headers, so a packed answer is never fragmented.
inline constexpr std::size_t kMaxPackedAnswer = 1200;
inline constexpr std::size_t kMinAnswerHeader = 3;  // flags, epoch id, 1-byte kid (announcement)
// Most entries one packed answer can carry (every entry at least 1 + 3 bytes).
inline constexpr std::size_t kMaxAnswersPerDatagram = (kMaxPackedAnswer - 1) / (1 + kMinAnswerHeader);

enum class IngressReject : std::uint8_t { kMalformed, kNotUplink, kOversized };

struct IngressMessage {
  e3::Header header;
  ByteSpan header_bytes;  // message[0 .. header_size)
};

// The gateway's check of a datagram (section 9.1): an uplink envelope or an
// announcement whose header parses, at most kMaxDatagram bytes. kOversized,
// kMalformed (section 8.1 rule 2) or kNotUplink (a downlink) otherwise; the
// gateway answers none of those.
Result<IngressMessage, IngressReject> classify_datagram(ByteSpan datagram);

// Writes the answer for a message into out_ (1 + header bytes); returns its size.
std::size_t write_answer(std::uint8_t kind, ByteSpan header_bytes, MutableByteSpan out_);

struct Answer {
  std::uint8_t kind;  // kAckSpooled or kAckRefused
  ByteSpan header_bytes;
};
// Parses a single-form answer on the device side; nullopt for anything else
// (a packed answer, a command). Prefer parse_answers, which takes both forms.
std::optional<Answer> parse_answer(ByteSpan datagram);

enum class AnswerError : std::uint8_t {
  kNotAnswer,   // first byte is not 0xC1/0xC2/0xC3 (e.g. a relayed command): not counted
  kOversized,   // longer than kMaxPackedAnswer (packed) or 1 + kMaxHeaderSize (single)
  kTruncated,   // an entry's header runs past the end, or a packed answer with no entry
  kBadKind,     // an entry's kind is neither 0xC1 nor 0xC2
  kBadHeader,   // an echoed header whose flags name a downlink or reserved type,
                // or lengths an uplink/announcement header cannot have
  kTooMany,     // more entries than the caller's buffer holds
};
std::string_view answer_error_name(AnswerError e);

// Counts what parse_answers saw, for a device's status line.
struct AnswerStats {
  std::uint64_t single = 0, packed = 0, entries = 0;
  std::uint64_t rejected = 0;  // any error other than kNotAnswer
};

// Parses a single (0xC1/0xC2) or packed (0xC3) answer into out_; returns the
// number of answers. All or nothing: on any error nothing in out_ is
// meaningful. The header bytes are only shape-checked: the device matches
// them byte for byte against what it sent. `stats` (optional) is updated.
Result<std::size_t, AnswerError> parse_answers(ByteSpan datagram, std::span<Answer> out_,
                                               AnswerStats* stats = nullptr);

// Builds packed answers for one destination, sans-I/O: add entries, and
// take() a finished datagram whenever add() says the next one does not fit.
class AnswerPacker {
 public:
  // False if the entry does not fit (call take() and add again) or if
  // header_bytes is not a valid answer header (nothing added).
  bool add(std::uint8_t kind, ByteSpan header_bytes);
  std::size_t entries() const { return entries_; }
  // The datagram to send: the single form for one entry, the packed form for
  // more; empty when nothing was added. Resets the packer; the bytes stay
  // valid until the next add().
  ByteSpan take();

 private:
  std::array<std::uint8_t, kMaxPackedAnswer> buf_{};
  std::size_t size_ = 1;  // buf_[0] is the 0xC3 tag
  std::size_t entries_ = 0;
};

}  // namespace armored::link
