#include "cbor/writer.h"

#include <cstring>

namespace armored::cbor {

std::size_t Writer::head_size(std::uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffull) return 5;
  return 9;
}

void Writer::put(const std::uint8_t* p, std::size_t n) {
  if (!ok_ || n == 0) return;
  if (grow_) {
    grow_->insert(grow_->end(), p, p + n);
    return;
  }
  if (fixed_.size() - pos_ < n) {
    ok_ = false;
    return;
  }
  std::memcpy(fixed_.data() + pos_, p, n);
  pos_ += n;
}

void Writer::head(std::uint8_t major, std::uint64_t v) {
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

Writer& Writer::uint(std::uint64_t v) { head(0, v); return *this; }
Writer& Writer::nint(std::uint64_t minus_one) { head(1, minus_one); return *this; }
Writer& Writer::integer(std::int64_t v) {
  if (v >= 0) return uint(static_cast<std::uint64_t>(v));
  return nint(static_cast<std::uint64_t>(-(v + 1)));
}
Writer& Writer::bstr(ByteSpan b) { head(2, b.size()); put(b.data(), b.size()); return *this; }
Writer& Writer::bstr_header(std::size_t len) { head(2, len); return *this; }
Writer& Writer::tstr(std::string_view s) {
  head(3, s.size());
  put(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return *this;
}
Writer& Writer::array(std::size_t n) { head(4, n); return *this; }
Writer& Writer::map(std::size_t n) { head(5, n); return *this; }
Writer& Writer::tag(std::uint64_t t) { head(6, t); return *this; }
Writer& Writer::null() { std::uint8_t b = 0xf6; put(&b, 1); return *this; }
Writer& Writer::boolean(bool v) { std::uint8_t b = v ? 0xf5 : 0xf4; put(&b, 1); return *this; }
Writer& Writer::raw(ByteSpan b) { put(b.data(), b.size()); return *this; }

}  // namespace armored::cbor
