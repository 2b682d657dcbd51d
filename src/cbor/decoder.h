#pragma once
// Strict, bounded CBOR decoder for control-path messages (epoch
// announcements, persisted state, COSE test messages). It accepts exactly one
// well-formed data item and rejects: non-minimal heads, indefinite lengths,
// trailing bytes, invalid UTF-8 in text strings, duplicate map keys, floats
// (unless allow_float64) and simple values other than false/true/null,
// nesting deeper than max_depth and items or containers larger than the limits.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::cbor {

enum class DecodeError : std::uint8_t {
  kTruncated,
  kNonMinimal,
  kIndefinite,
  kTrailingBytes,
  kBadUtf8,
  kDuplicateKey,
  kUnsupported,   // floats, reserved additional info, unknown simple values
  kTooDeep,
  kTooLarge,      // a length or count over the limits
};
const char* to_string(DecodeError e);

struct Limits {
  std::size_t max_depth = 16;
  std::size_t max_items = 1024;        // total data items in the message
  std::size_t max_string = 64 * 1024;  // bytes in one bstr/tstr
  // Accept finite binary64 floats (0xfb); half and single precision, NaN
  // and infinities stay kUnsupported. For profiles that always write
  // floats as binary64 (device commands, docs/commands.md).
  bool allow_float64 = false;
};

enum class Type : std::uint8_t { kUint, kNint, kBstr, kTstr, kArray, kMap, kTag, kBool, kNull, kFloat64 };

struct Item {
  Type type = Type::kNull;
  std::uint64_t uint_value = 0;  // kUint: value; kNint: -1 - value; kTag: tag number; kBool: 0/1
  double float_value = 0;        // kFloat64 (finite)
  Bytes bytes;                   // kBstr contents, kTstr UTF-8 text
  std::vector<Item> children;    // kArray elements, kMap key,value,key,value..., kTag content
  ByteSpan encoded;              // the item's own encoding inside the decoded buffer

  bool is_uint() const { return type == Type::kUint; }
  bool is_int() const { return type == Type::kUint || type == Type::kNint; }
  // Value of a uint/nint that fits int64 (callers check is_int first).
  std::int64_t int_value() const;
  std::string_view text() const { return as_string(bytes); }
  std::size_t map_size() const { return children.size() / 2; }
  // Looks up an integer map key; nullptr if absent or not a map.
  const Item* find(std::int64_t key) const;
};

// Decodes `data` as exactly one CBOR item within `limits`. Item::encoded
// spans point into `data`, which must outlive the result.
Result<Item, DecodeError> decode(ByteSpan data, const Limits& limits = {});

// For reading a long array one element at a time (a decoded item costs
// about 90 bytes, so a state of millions of items is not decoded whole):
// Decodes the first item of `data` as decode() does, leaving what follows
// it; consumed_ is set to the item's encoded size.
Result<Item, DecodeError> decode_prefix(ByteSpan data, std::size_t& consumed_, const Limits& limits = {});
// Reads the head of a definite-length array at the start of `data`: its
// element count, with consumed_ set to the head's size. Errors as decode().
Result<std::uint64_t, DecodeError> decode_array_head(ByteSpan data, std::size_t& consumed_);

}  // namespace armored::cbor
