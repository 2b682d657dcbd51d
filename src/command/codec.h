#pragma once
// The wire form of commands (cloud -> device) and replies (device -> cloud):
// the plaintexts sealed in E3 envelopes. Deterministic CBOR (RFC 8949
// section 4.2.1) inside the self-described CBOR tag 55799, so every plaintext
// starts with d9 d9 f7. That prefix is how the cloud tells a reply from a
// 52-byte reading (classify_uplink). Full specification: docs/commands.md.
//
//   command = 55799({0: 1, 1: id, 2: name, 3: {param: value, ...}, 4: issued_at_ms})
//   reply   = 55799({0: 2, 1: id, 5: outcome, ? 6: reason, ? 7: {field: value, ...}})
//
// id: uint, 1..2^64-1 in commands (0 in a reply means "did not decode");
// value: int, float64 (binary64 always, finite), bool or text; outcome: 0
// accepted, 1 refused; reason (text, error.h name) iff refused; result only
// when accepted and not empty. Map keys in canonical order; the decoder
// refuses anything an encoder would not have written, so for every input it
// accepts, encode(decode(x)) == x.

#include <cstddef>
#include <cstdint>

#include "command/value.h"
#include "common/bytes.h"
#include "common/result.h"

namespace armored::command {

inline constexpr std::size_t kMaxMessageBytes = 1024;  // = E3's default max_plaintext
inline constexpr std::size_t kMaxWireParams = 16;       // params of a command, fields of a result
inline constexpr std::size_t kMaxWireName = 32;         // command, parameter and result field names
inline constexpr std::size_t kMaxWireText = 256;        // one text value
inline constexpr std::uint8_t kMessagePrefix[3] = {0xd9, 0xd9, 0xf7};

enum class CodecErrc : std::uint8_t {
  kTooLarge,        // input over kMaxMessageBytes, or a list/name/text over its limit
  kNotCbor,         // not one well-formed CBOR item (truncated, trailing bytes, bad UTF-8, ...)
  kNoPrefix,        // not wrapped in tag 55799
  kWrongKind,       // a reply where a command was expected, or the reverse
  kMissingField,    // a required key is absent
  kUnknownField,    // a key this kind does not define
  kWrongFieldType,  // a key holds the wrong CBOR type
  kBadValue,        // id 0, outcome other than 0/1, unknown reason, reason on an acceptance, bad name
  kNonCanonical,    // keys out of canonical order, or float not as binary64
};
inline constexpr std::size_t kCodecErrcCount = static_cast<std::size_t>(CodecErrc::kNonCanonical) + 1;
const char* to_string(CodecErrc c);

struct CodecError {
  CodecErrc code;
  const char* message;  // static text naming what was wrong
};

// Encodes a command. kTooLarge when it would exceed a limit above (a
// command validated against a loaded schema never does: the schema is
// refused at load if any of its commands could).
Result<Bytes, CodecError> encode_command(const Command& c);
// Strictly decodes a command plaintext (no schema: see Validator::check).
Result<Command, CodecError> decode_command(ByteSpan plaintext);

Result<Bytes, CodecError> encode_reply(const Reply& r);
Result<Reply, CodecError> decode_reply(ByteSpan plaintext);

// What an opened uplink plaintext is: a reply if it starts with
// kMessagePrefix, else a reading (to be parsed by telemetry, which rejects
// it if it is not one). No 52-byte reading valid before 2085 starts with
// d9 d9 f7: that would be its timestamp's top bytes.
enum class UplinkKind : std::uint8_t { kReading, kReply };
UplinkKind classify_uplink(ByteSpan plaintext);

// Decode failures counted by code.
struct CodecCounters {
  std::uint64_t by_code[kCodecErrcCount] = {};
  void count(CodecErrc c) { ++by_code[static_cast<std::size_t>(c)]; }
};

}  // namespace armored::command
