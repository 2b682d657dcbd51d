#include "e3/framing.h"

#include <bit>
#include <cstring>

namespace armored::e3 {
namespace {

// Enc_structure = ["Encrypt0", h'', external_aad]: array(3), tstr "Encrypt0", bstr h''.
constexpr std::uint8_t kEncPrefix[] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};

// CBOR head (major type + shortest argument), as write_aad() writes it.
std::size_t put_head(std::uint8_t* p, std::uint8_t major, std::uint64_t v) {
  const auto mt = static_cast<std::uint8_t>(major << 5);
  if (v < 24) {
    p[0] = static_cast<std::uint8_t>(mt | v);
    return 1;
  }
  const std::size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffull ? 4 : 8;
  p[0] = static_cast<std::uint8_t>(mt | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  for (std::size_t i = 0; i < n; ++i) p[1 + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
  return 1 + n;
}

// Stores the low `len` bytes of v big-endian at p, writing 8 bytes (the
// caller's buffer has room for the overrun, which later writes cover).
void store_be_padded(std::uint8_t* p, std::uint64_t v, std::size_t len) {
  std::uint64_t w = v << (8 * (8 - len));
  if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
  std::memcpy(p, &w, sizeof w);
}

}  // namespace

DataFraming::DataFraming(crypto::AeadAlg alg, ByteSpan kid, std::uint32_t epoch, MessageType type)
    : type_(type), kid_size_(static_cast<std::uint8_t>(kid.size())) {
  header_[0] = make_flags(type, kid.size(), 0);  // write_header() sets the partial IV length
  header_[1] = static_cast<std::uint8_t>(epoch);
  std::memcpy(header_.data() + 2, kid.data(), kid.size());

  std::size_t n = 0;
  ext_head_[n++] = 0x86;  // array(6)
  ext_head_[n++] = kProtocolVersion;
  ext_head_[n++] = 0x81;  // array(1)
  n += put_head(ext_head_.data() + n, 0, static_cast<std::uint64_t>(alg));
  n += put_head(ext_head_.data() + n, 2, kid.size());
  std::memcpy(ext_head_.data() + n, kid.data(), kid.size());
  ext_head_size_ = static_cast<std::uint8_t>(n + kid.size());

  std::size_t t = put_head(ext_tail_.data(), 0, epoch);
  ext_tail_[t++] = static_cast<std::uint8_t>(type);
  ext_tail_size_ = static_cast<std::uint8_t>(t);
}

std::size_t DataFraming::write_header(std::uint64_t seq, std::uint8_t* out) const {
  const std::size_t piv_len = partial_iv_length(seq);
  const std::size_t fixed = 2 + kid_size_;
  std::memcpy(out, header_.data(), fixed);
  out[0] = make_flags(type_, kid_size_, piv_len);
  for (std::size_t i = 0; i < piv_len; ++i) out[fixed + i] = static_cast<std::uint8_t>(seq >> (8 * (piv_len - 1 - i)));
  return fixed + piv_len;
}

std::size_t DataFraming::write_aad(std::uint64_t seq, std::uint8_t* out) const {
  static_assert(sizeof kEncPrefix + 2 + kExtHeadMax + 1 + 8 + kExtTailMax <= kMaxAadSize,
                "fixed-size copies must fit the AAD buffer");
  const std::size_t piv_len = partial_iv_length(seq);
  const std::size_t ext_len = ext_head_size_ + 1 + piv_len + ext_tail_size_;
  std::memcpy(out, kEncPrefix, sizeof kEncPrefix);
  std::size_t n = sizeof kEncPrefix;
  if (ext_len < 24) {
    out[n++] = static_cast<std::uint8_t>(0x40 | ext_len);
  } else {
    out[n++] = 0x58;
    out[n++] = static_cast<std::uint8_t>(ext_len);
  }
  // Whole-array copies: constant sizes compile to a few moves; the bytes past
  // each part's size are overwritten by the next part.
  std::memcpy(out + n, ext_head_.data(), kExtHeadMax);
  n += ext_head_size_;
  out[n++] = static_cast<std::uint8_t>(0x40 | piv_len);
  store_be_padded(out + n, seq, piv_len);
  n += piv_len;
  std::memcpy(out + n, ext_tail_.data(), kExtTailMax);
  return n + ext_tail_size_;
}

}  // namespace armored::e3
