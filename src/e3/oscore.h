#pragma once
// OSCORE security-context derivation (RFC 8613 section 3.2) and AEAD nonce
// construction (section 5.2), used by E3 for every epoch.

#include <array>
#include <optional>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "e3/error.h"

namespace armored::e3::oscore {

inline constexpr std::size_t kMaxNonce = 13;
inline constexpr std::size_t kMaxKey = 32;
inline constexpr std::size_t kMaxPartialIv = 5;

struct DerivedContext {
  Bytes sender_key;
  Bytes recipient_key;
  Bytes common_iv;  // nonce length of the AEAD
};

// The CBOR `info` of RFC 8613 3.2.1:
// [ id : bstr, id_context : bstr / nil, alg_aead : int, type : tstr, L : uint ].
Bytes info(ByteSpan id, const std::optional<Bytes>& id_context, std::int64_t alg, std::string_view type,
           std::size_t length);

// Derives sender key, recipient key and common IV with HKDF-SHA-256 from the
// master secret and salt. kBadConfig if an ID is longer than nonce_len - 6.
E3Result<DerivedContext> derive(ByteSpan master_secret, ByteSpan master_salt,
                                const std::optional<Bytes>& id_context, ByteSpan sender_id,
                                ByteSpan recipient_id, crypto::AeadAlg alg);

// Nonce = (ID length byte || ID left-padded to nonce_len-6 || PIV left-padded
// to 5) XOR common IV. Writes nonce_len = common_iv.size() bytes to out_.
void make_nonce(ByteSpan common_iv, ByteSpan id_piv, std::uint64_t partial_iv, MutableByteSpan out_);

// Minimal big-endian encoding of a sequence number (0 -> one 0x00 byte).
std::size_t partial_iv_size(std::uint64_t seq);
std::size_t encode_partial_iv(std::uint64_t seq, MutableByteSpan out_);

}  // namespace armored::e3::oscore
