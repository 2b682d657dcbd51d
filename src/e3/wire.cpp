#include "e3/wire.h"

#include <algorithm>
#include <array>

#include "cbor/writer.h"
#include "e3/oscore.h"

namespace armored::e3 {

E3Result<Header> parse_header(ByteSpan message) {
  ByteReader r(message);
  std::uint8_t flags = 0;
  Header h;
  if (!r.read_u8(flags) || !r.read_u8(h.epoch_id)) return e3_fail(E3Errc::kMalformed, "truncated header");
  const unsigned type = flags >> 6;
  const std::size_t kid_len = ((flags >> 3) & 0x7u) + 1;
  const std::size_t piv_len = flags & 0x7u;
  if (type > 2) return e3_fail(E3Errc::kMalformed, "reserved message type");
  h.type = static_cast<MessageType>(type);
  if (!r.read_bytes(kid_len, h.kid)) return e3_fail(E3Errc::kMalformed, "truncated key ID");
  if (h.type == MessageType::kAnnouncement) {
    if (piv_len != 0) return e3_fail(E3Errc::kMalformed, "announcement with partial IV bits set");
  } else {
    if (piv_len == 0 || piv_len > kMaxPartialIvSize) return e3_fail(E3Errc::kMalformed, "partial IV length not 1..5");
    if (!r.read_bytes(piv_len, h.partial_iv)) return e3_fail(E3Errc::kMalformed, "truncated partial IV");
    // One encoding per number, so the header bytes are fixed by the AAD fields.
    if (piv_len > 1 && h.partial_iv[0] == 0) return e3_fail(E3Errc::kMalformed, "non-minimal partial IV");
    for (std::uint8_t b : h.partial_iv) h.sequence = (h.sequence << 8) | b;
  }
  h.header_size = r.position();
  h.body = r.rest();
  if (h.body.empty()) return e3_fail(E3Errc::kMalformed, "no body after header");
  return h;
}

std::size_t write_data_header(MessageType type, std::uint8_t epoch_id, ByteSpan kid, std::uint64_t seq,
                              MutableByteSpan out_) {
  const std::size_t piv_len = oscore::partial_iv_size(seq);
  out_[0] = static_cast<std::uint8_t>((static_cast<unsigned>(type) << 6) | ((kid.size() - 1) << 3) | piv_len);
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

std::size_t write_aad(crypto::AeadAlg alg, ByteSpan kid, ByteSpan partial_iv, std::uint32_t epoch,
                      MessageType type, MutableByteSpan out_) {
  std::array<std::uint8_t, kMaxAadSize> ext{};
  cbor::Writer e(ext);
  e.array(6).uint(kProtocolVersion).array(1).integer(static_cast<std::int64_t>(alg));
  e.bstr(kid).bstr(partial_iv).uint(epoch).uint(static_cast<std::uint64_t>(type));
  cbor::Writer w(out_);
  w.array(3).tstr("Encrypt0").bstr({}).bstr(e.written());
  return w.ok() && e.ok() ? w.size() : 0;
}

}  // namespace armored::e3
