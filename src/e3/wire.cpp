#include "e3/wire.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "e3/oscore.h"

namespace armored::e3 {

E3Result<Header> parse_header(ByteSpan message) {
  // Every reading passes through here, so the fields are read with one
  // bounds check each on the raw bytes instead of through a ByteReader.
  const std::size_t size = message.size();
  const std::uint8_t* p = message.data();
  if (size < 2) return e3_fail(E3Errc::kMalformed, "truncated header");
  const std::optional<MessageType> type = flags_type(p[0]);
  const std::size_t kid_len = flags_kid_size(p[0]);
  const std::size_t piv_len = flags_partial_iv_size(p[0]);
  if (!type) return e3_fail(E3Errc::kMalformed, "reserved message type");
  Header h;
  h.type = *type;
  h.epoch_id = p[1];
  std::size_t pos = 2;
  if (size - pos < kid_len) return e3_fail(E3Errc::kMalformed, "truncated key ID");
  h.kid = ByteSpan(p + pos, kid_len);
  pos += kid_len;
  if (h.type == MessageType::kAnnouncement) {
    if (piv_len != 0) return e3_fail(E3Errc::kMalformed, "announcement with partial IV bits set");
  } else {
    if (piv_len == 0 || piv_len > kMaxPartialIvSize) return e3_fail(E3Errc::kMalformed, "partial IV length not 1..5");
    if (size - pos < piv_len) return e3_fail(E3Errc::kMalformed, "truncated partial IV");
    h.partial_iv = ByteSpan(p + pos, piv_len);
    // One encoding per number, so the header bytes are fixed by the AAD fields.
    if (piv_len > 1 && p[pos] == 0) return e3_fail(E3Errc::kMalformed, "non-minimal partial IV");
    std::uint64_t seq = 0;
    for (std::size_t i = 0; i < piv_len; ++i) seq = (seq << 8) | p[pos + i];
    h.sequence = seq;
    pos += piv_len;
  }
  h.header_size = pos;
  if (pos == size) return e3_fail(E3Errc::kMalformed, "no body after header");
  h.body = ByteSpan(p + pos, size - pos);
  return h;
}

std::size_t write_data_header(MessageType type, std::uint8_t epoch_id, ByteSpan kid, std::uint64_t seq,
                              MutableByteSpan out_) {
  const std::size_t piv_len = oscore::partial_iv_size(seq);
  out_[0] = make_flags(type, kid.size(), piv_len);
  out_[1] = epoch_id;
  std::copy(kid.begin(), kid.end(), out_.begin() + 2);
  oscore::encode_partial_iv(seq, out_.subspan(2 + kid.size()));
  return 2 + kid.size() + piv_len;
}

std::size_t sealed_size(crypto::AeadAlg alg, std::size_t plaintext_size, std::size_t kid_size,
                        std::uint64_t sequence) {
  return 2 + kid_size + oscore::partial_iv_size(sequence) + plaintext_size + crypto::spec_of(alg).tag_len;
}

std::size_t max_sealed_size(crypto::AeadAlg alg, std::size_t plaintext_size, std::size_t kid_size,
                            std::uint64_t max_sequence) {
  return sealed_size(alg, plaintext_size, kid_size, max_sequence);
}

namespace {

// CBOR head (major type + shortest argument), as cbor::Writer writes it; the
// AAD is built on every message, so it is encoded here byte by byte.
std::size_t put_head(std::uint8_t* p, std::uint8_t major, std::uint64_t v) {
  const std::uint8_t mt = static_cast<std::uint8_t>(major << 5);
  if (v < 24) {
    p[0] = static_cast<std::uint8_t>(mt | v);
    return 1;
  }
  const std::size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffull ? 4 : 8;
  p[0] = static_cast<std::uint8_t>(mt | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  for (std::size_t i = 0; i < n; ++i) p[1 + i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
  return 1 + n;
}

}  // namespace

std::size_t write_aad(crypto::AeadAlg alg, ByteSpan kid, ByteSpan partial_iv, std::uint32_t epoch,
                      MessageType type, MutableByteSpan out_) {
  if (kid.size() > kMaxKidSize || partial_iv.size() > 8 || out_.size() < kMaxAadSize) return 0;
  // external_aad = [1, [alg], kid, piv, epoch, type]: at most 3+2+9+9+5+1 bytes.
  std::uint8_t ext[32];
  std::size_t e = 0;
  ext[e++] = 0x86;  // array(6)
  ext[e++] = kProtocolVersion;
  ext[e++] = 0x81;  // array(1)
  e += put_head(ext + e, 0, static_cast<std::uint64_t>(alg));  // COSE ids of our AEADs are positive
  e += put_head(ext + e, 2, kid.size());
  std::memcpy(ext + e, kid.data(), kid.size());
  e += kid.size();
  e += put_head(ext + e, 2, partial_iv.size());
  std::memcpy(ext + e, partial_iv.data(), partial_iv.size());
  e += partial_iv.size();
  e += put_head(ext + e, 0, epoch);
  ext[e++] = static_cast<std::uint8_t>(type);
  // Enc_structure = ["Encrypt0", h'', bstr external_aad]
  static constexpr std::uint8_t kPrefix[] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};
  std::uint8_t* out = out_.data();
  std::memcpy(out, kPrefix, sizeof kPrefix);
  std::size_t n = sizeof kPrefix;
  n += put_head(out + n, 2, e);
  std::memcpy(out + n, ext, e);
  return n + e;
}

}  // namespace armored::e3
