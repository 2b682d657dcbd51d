#pragma once
// Bounded byte cursors (after BoringSSL's CBS/CBB). Every parser in Armored
// reads through ByteReader: reads never run past the end, and a failed read
// leaves the cursor where it was.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace armored {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

inline ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  std::size_t position() const { return pos_; }
  ByteSpan rest() const { return data_.subspan(pos_); }

  bool read_u8(std::uint8_t& out_) {
    if (remaining() < 1) return false;
    out_ = data_[pos_++];
    return true;
  }
  bool read_u16be(std::uint16_t& out_) {
    if (remaining() < 2) return false;
    out_ = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool read_u32be(std::uint32_t& out_) {
    if (remaining() < 4) return false;
    out_ = 0;
    for (int i = 0; i < 4; ++i) out_ = (out_ << 8) | data_[pos_ + i];
    pos_ += 4;
    return true;
  }
  // Reads an n-byte big-endian unsigned integer (n <= 8).
  bool read_uint_be(std::size_t n, std::uint64_t& out_) {
    if (n > 8 || remaining() < n) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    out_ = v;
    return true;
  }
  bool read_bytes(std::size_t n, ByteSpan& out_) {
    if (remaining() < n) return false;
    out_ = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  ByteSpan data_;
  std::size_t pos_ = 0;
};

// Appends to a caller-owned vector. Writers to fixed buffers check capacity
// themselves; this one is for control-path encoders.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16be(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32be(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<std::uint8_t>(v >> s));
  }
  void bytes(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) { bytes(as_bytes(s)); }

 private:
  Bytes& out_;
};

}  // namespace armored
