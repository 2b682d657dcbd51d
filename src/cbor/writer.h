#pragma once
// Minimal deterministic CBOR encoder (RFC 8949 section 4.2.1: shortest
// argument encoding, definite lengths only). Callers emit map keys in
// canonical order themselves.
//
// Writes either into a fixed caller buffer (no allocation: the E3 hot path
// builds its AAD this way) or appends to a growable Bytes.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/bytes.h"

namespace armored::cbor {

class Writer {
 public:
  explicit Writer(MutableByteSpan fixed) : fixed_(fixed) {}
  explicit Writer(Bytes& grow) : grow_(&grow) {}

  Writer& uint(std::uint64_t v);
  Writer& nint(std::uint64_t minus_one);  // encodes -1 - minus_one
  Writer& integer(std::int64_t v);
  Writer& bstr(ByteSpan b);
  Writer& bstr_header(std::size_t len);  // the contents follow via raw()
  Writer& tstr(std::string_view s);
  Writer& array(std::size_t n);
  Writer& map(std::size_t n);
  Writer& tag(std::uint64_t t);
  Writer& null();
  Writer& boolean(bool b);
  Writer& float64(double v);  // always binary64 (0xfb), whatever the value
  Writer& raw(ByteSpan b);  // already-encoded CBOR or bstr contents

  // False once a fixed buffer overflowed; the content is then unusable.
  bool ok() const { return ok_; }
  std::size_t size() const { return grow_ ? grow_->size() : pos_; }
  ByteSpan written() const { return grow_ ? ByteSpan(*grow_) : ByteSpan(fixed_.first(pos_)); }

  // Size in bytes of the head (major type + argument) for argument v.
  static std::size_t head_size(std::uint64_t v);

 private:
  void head(std::uint8_t major, std::uint64_t v);
  void put(const std::uint8_t* p, std::size_t n);

  MutableByteSpan fixed_{};
  Bytes* grow_ = nullptr;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Defined inline: the E3 hot path writes its AAD with these on every message.

inline std::size_t Writer::head_size(std::uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffull) return 5;
  return 9;
}

inline void Writer::put(const std::uint8_t* p, std::size_t n) {
  if (!ok_ || n == 0) return;
  if (grow_) {
    // resize + memcpy rather than insert(): GCC 12 -O3 misreports insert()
    // of a span into a vector as an overflow (-Wstringop-overflow).
    const std::size_t old = grow_->size();
    grow_->resize(old + n);
    std::memcpy(grow_->data() + old, p, n);
    return;
  }
  if (fixed_.size() - pos_ < n) {
    ok_ = false;
    return;
  }
  std::memcpy(fixed_.data() + pos_, p, n);
  pos_ += n;
}

inline void Writer::head(std::uint8_t major, std::uint64_t v) {
  std::uint8_t buf[9];
  const std::uint8_t mt = static_cast<std::uint8_t>(major << 5);
  std::size_t n = head_size(v);
  if (n == 1) {
    buf[0] = static_cast<std::uint8_t>(mt | v);
  } else {
    const std::uint8_t ai = n == 2 ? 24 : n == 3 ? 25 : n == 5 ? 26 : 27;
    buf[0] = static_cast<std::uint8_t>(mt | ai);
    for (std::size_t i = 1; i < n; ++i) buf[i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
  }
  put(buf, n);
}

inline Writer& Writer::uint(std::uint64_t v) { head(0, v); return *this; }
inline Writer& Writer::nint(std::uint64_t minus_one) { head(1, minus_one); return *this; }
inline Writer& Writer::integer(std::int64_t v) {
  if (v >= 0) return uint(static_cast<std::uint64_t>(v));
  return nint(static_cast<std::uint64_t>(-(v + 1)));
}
inline Writer& Writer::bstr(ByteSpan b) { head(2, b.size()); put(b.data(), b.size()); return *this; }
inline Writer& Writer::bstr_header(std::size_t len) { head(2, len); return *this; }
inline Writer& Writer::tstr(std::string_view s) {
  head(3, s.size());
  put(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return *this;
}
inline Writer& Writer::array(std::size_t n) { head(4, n); return *this; }
inline Writer& Writer::map(std::size_t n) { head(5, n); return *this; }
inline Writer& Writer::tag(std::uint64_t t) { head(6, t); return *this; }
inline Writer& Writer::null() { std::uint8_t b = 0xf6; put(&b, 1); return *this; }
inline Writer& Writer::boolean(bool v) { std::uint8_t b = v ? 0xf5 : 0xf4; put(&b, 1); return *this; }
inline Writer& Writer::float64(double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  std::uint8_t buf[9] = {0xfb};
  for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  put(buf, 9);
  return *this;
}
inline Writer& Writer::raw(ByteSpan b) { put(b.data(), b.size()); return *this; }

}  // namespace armored::cbor
