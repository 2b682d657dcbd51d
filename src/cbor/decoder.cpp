#include "cbor/decoder.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace armored::cbor {

const char* to_string(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated: return "truncated CBOR";
    case DecodeError::kNonMinimal: return "non-minimal CBOR encoding";
    case DecodeError::kIndefinite: return "indefinite-length CBOR";
    case DecodeError::kTrailingBytes: return "trailing bytes after CBOR item";
    case DecodeError::kBadUtf8: return "invalid UTF-8 in CBOR text";
    case DecodeError::kDuplicateKey: return "duplicate CBOR map key";
    case DecodeError::kUnsupported: return "unsupported CBOR item";
    case DecodeError::kTooDeep: return "CBOR nested too deeply";
    case DecodeError::kTooLarge: return "CBOR item too large";
  }
  return "CBOR error";
}

std::int64_t Item::int_value() const {
  if (type == Type::kUint) return static_cast<std::int64_t>(uint_value);
  return -1 - static_cast<std::int64_t>(uint_value);
}

const Item* Item::find(std::int64_t key) const {
  if (type != Type::kMap) return nullptr;
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    if (children[i].is_int() && children[i].uint_value <= INT64_MAX && children[i].int_value() == key) {
      return &children[i + 1];
    }
  }
  return nullptr;
}

namespace {

bool valid_utf8(ByteSpan s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint8_t c = s[i];
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
    else return false;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

class Parser {
 public:
  Parser(ByteSpan data, const Limits& limits) : r_(data), data_(data), limits_(limits) {}

  Result<Item, DecodeError> item(std::size_t depth) {
    if (depth > limits_.max_depth) return unexpected(DecodeError::kTooDeep);
    if (++items_ > limits_.max_items) return unexpected(DecodeError::kTooLarge);
    const std::size_t start = r_.position();
    std::uint8_t ib = 0;
    if (!r_.read_u8(ib)) return unexpected(DecodeError::kTruncated);
    const std::uint8_t major = ib >> 5;
    const std::uint8_t ai = ib & 0x1f;
    std::uint64_t arg = 0;
    if (major == 7) return simple(ai, start);
    if (ai == 31) return unexpected(DecodeError::kIndefinite);
    if (ai >= 28) return unexpected(DecodeError::kUnsupported);
    if (ai < 24) {
      arg = ai;
    } else {
      const std::size_t n = std::size_t{1} << (ai - 24);
      if (!r_.read_uint_be(n, arg)) return unexpected(DecodeError::kTruncated);
      // Shortest form: a wider head must be needed for the value.
      const std::uint64_t min = ai == 24 ? 24 : ai == 25 ? 0x100 : ai == 26 ? 0x10000 : 0x100000000ull;
      if (arg < min) return unexpected(DecodeError::kNonMinimal);
    }
    Item out;
    switch (major) {
      case 0: out.type = Type::kUint; out.uint_value = arg; break;
      case 1: out.type = Type::kNint; out.uint_value = arg; break;
      case 2:
      case 3: {
        if (arg > limits_.max_string) return unexpected(DecodeError::kTooLarge);
        ByteSpan s;
        if (!r_.read_bytes(static_cast<std::size_t>(arg), s)) return unexpected(DecodeError::kTruncated);
        if (major == 3 && !valid_utf8(s)) return unexpected(DecodeError::kBadUtf8);
        out.type = major == 2 ? Type::kBstr : Type::kTstr;
        out.bytes.assign(s.begin(), s.end());
        break;
      }
      case 4:
      case 5: {
        const bool is_map = major == 5;
        // Each element needs at least one byte: a cheap bound before reserving.
        if (arg > limits_.max_items || arg * (is_map ? 2 : 1) > r_.remaining()) {
          return unexpected(arg > limits_.max_items ? DecodeError::kTooLarge : DecodeError::kTruncated);
        }
        out.type = is_map ? Type::kMap : Type::kArray;
        const std::size_t count = static_cast<std::size_t>(arg) * (is_map ? 2 : 1);
        out.children.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
          auto child = item(depth + 1);
          if (!child) return child;
          if (is_map && i % 2 == 0) {
            for (std::size_t k = 0; k < i; k += 2) {
              if (std::ranges::equal(out.children[k].encoded, child->encoded)) {
                return unexpected(DecodeError::kDuplicateKey);
              }
            }
          }
          out.children.push_back(std::move(*child));
        }
        break;
      }
      case 6: {
        out.type = Type::kTag;
        out.uint_value = arg;
        auto child = item(depth + 1);
        if (!child) return child;
        out.children.push_back(std::move(*child));
        break;
      }
      default: return unexpected(DecodeError::kUnsupported);
    }
    out.encoded = data_.subspan(start, r_.position() - start);
    return out;
  }

  bool at_end() const { return r_.empty(); }
  std::size_t position() const { return r_.position(); }

 private:
  Result<Item, DecodeError> simple(std::uint8_t ai, std::size_t start) {
    Item out;
    if (ai == 20 || ai == 21) {
      out.type = Type::kBool;
      out.uint_value = ai == 21 ? 1 : 0;
    } else if (ai == 22) {
      out.type = Type::kNull;
    } else if (ai == 27 && limits_.allow_float64) {
      std::uint64_t bits = 0;
      if (!r_.read_uint_be(8, bits)) return unexpected(DecodeError::kTruncated);
      const double v = std::bit_cast<double>(bits);
      if (!std::isfinite(v)) return unexpected(DecodeError::kUnsupported);
      out.type = Type::kFloat64;
      out.float_value = v;
      out.encoded = data_.subspan(start, 9);
      return out;
    } else if (ai == 31) {
      return unexpected(DecodeError::kIndefinite);
    } else {
      return unexpected(DecodeError::kUnsupported);
    }
    out.encoded = data_.subspan(start, 1);
    return out;
  }

  ByteReader r_;
  ByteSpan data_;
  const Limits& limits_;
  std::size_t items_ = 0;
};

}  // namespace

Result<Item, DecodeError> decode(ByteSpan data, const Limits& limits) {
  Parser p(data, limits);
  auto item = p.item(0);
  if (!item) return item;
  if (!p.at_end()) return unexpected(DecodeError::kTrailingBytes);
  return item;
}

Result<Item, DecodeError> decode_prefix(ByteSpan data, std::size_t& consumed_, const Limits& limits) {
  Parser p(data, limits);
  auto item = p.item(0);
  consumed_ = item ? p.position() : 0;
  return item;
}

Result<std::uint64_t, DecodeError> decode_array_head(ByteSpan data, std::size_t& consumed_) {
  consumed_ = 0;
  ByteReader r(data);
  std::uint8_t ib = 0;
  if (!r.read_u8(ib)) return unexpected(DecodeError::kTruncated);
  const std::uint8_t ai = ib & 0x1f;
  if ((ib >> 5) != 4) return unexpected(DecodeError::kUnsupported);
  if (ai == 31) return unexpected(DecodeError::kIndefinite);
  if (ai >= 28) return unexpected(DecodeError::kUnsupported);
  std::uint64_t count = ai;
  if (ai >= 24) {
    const std::size_t n = std::size_t{1} << (ai - 24);
    if (!r.read_uint_be(n, count)) return unexpected(DecodeError::kTruncated);
    const std::uint64_t min = ai == 24 ? 24 : ai == 25 ? 0x100 : ai == 26 ? 0x10000 : 0x100000000ull;
    if (count < min) return unexpected(DecodeError::kNonMinimal);
  }
  consumed_ = r.position();
  return count;
}

}  // namespace armored::cbor
