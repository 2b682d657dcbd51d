#pragma once
// Minimal deterministic CBOR encoder (RFC 8949 section 4.2.1: shortest
// argument encoding, definite lengths only). Callers emit map keys in
// canonical order themselves.
//
// Writes either into a fixed caller buffer (no allocation: the E3 hot path
// builds its AAD this way) or appends to a growable Bytes.

#include <cstdint>
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

}  // namespace armored::cbor
