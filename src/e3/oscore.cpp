#include "e3/oscore.h"

#include "cbor/writer.h"
#include "crypto/hkdf.h"

namespace armored::e3::oscore {

Bytes info(ByteSpan id, const std::optional<Bytes>& id_context, std::int64_t alg, std::string_view type,
           std::size_t length) {
  Bytes out;
  cbor::Writer w(out);
  w.array(5).bstr(id);
  if (id_context) w.bstr(*id_context); else w.null();
  w.integer(alg).tstr(type).uint(length);
  return out;
}

E3Result<DerivedContext> derive(ByteSpan master_secret, ByteSpan master_salt,
                                const std::optional<Bytes>& id_context, ByteSpan sender_id,
                                ByteSpan recipient_id, crypto::AeadAlg alg) {
  const auto spec = crypto::spec_of(alg);
  // RFC 8613 3.3: the maximum Sender ID length is the nonce length minus 6.
  if (sender_id.size() > spec.nonce_len - 6 || recipient_id.size() > spec.nonce_len - 6) {
    return e3_fail(E3Errc::kBadConfig, "OSCORE ID longer than nonce length - 6");
  }
  const auto alg_id = static_cast<std::int64_t>(alg);
  DerivedContext out;
  out.sender_key.resize(spec.key_len);
  out.recipient_key.resize(spec.key_len);
  out.common_iv.resize(spec.nonce_len);
  const bool ok = crypto::hkdf_sha256(master_secret, master_salt, info(sender_id, id_context, alg_id, "Key", spec.key_len),
                                      out.sender_key) &&
                  crypto::hkdf_sha256(master_secret, master_salt,
                                      info(recipient_id, id_context, alg_id, "Key", spec.key_len), out.recipient_key) &&
                  crypto::hkdf_sha256(master_secret, master_salt, info({}, id_context, alg_id, "IV", spec.nonce_len),
                                      out.common_iv);
  if (!ok) return e3_fail(E3Errc::kInternal, "HKDF failed");
  return out;
}

void make_nonce(ByteSpan common_iv, ByteSpan id_piv, std::uint64_t partial_iv, MutableByteSpan out_) {
  const std::size_t n = common_iv.size();
  std::array<std::uint8_t, kMaxNonce> buf{};
  buf[0] = static_cast<std::uint8_t>(id_piv.size());
  // ID right-aligned in bytes 1 .. n-6, PIV right-aligned in the last 5 bytes.
  for (std::size_t i = 0; i < id_piv.size(); ++i) buf[n - 5 - id_piv.size() + i] = id_piv[i];
  for (std::size_t i = 0; i < 5; ++i) buf[n - 1 - i] = static_cast<std::uint8_t>(partial_iv >> (8 * i));
  for (std::size_t i = 0; i < n; ++i) out_[i] = static_cast<std::uint8_t>(buf[i] ^ common_iv[i]);
}

std::size_t partial_iv_size(std::uint64_t seq) {
  std::size_t n = 1;
  while (n < 8 && (seq >> (8 * n)) != 0) ++n;
  return n;
}

std::size_t encode_partial_iv(std::uint64_t seq, MutableByteSpan out_) {
  const std::size_t n = partial_iv_size(seq);
  for (std::size_t i = 0; i < n; ++i) out_[i] = static_cast<std::uint8_t>(seq >> (8 * (n - 1 - i)));
  return n;
}

}  // namespace armored::e3::oscore
