#pragma once
// HKDF-SHA-256 (RFC 5869) through OpenSSL's EVP_KDF.

#include "common/bytes.h"
#include "crypto/error.h"

namespace armored::crypto {

inline constexpr std::size_t kHkdfSha256MaxOutput = 255 * 32;

// Fills `out_` with HKDF-SHA-256(ikm, salt, info). An empty salt means the
// RFC 5869 default (HashLen zero bytes). Fails with kBadParameters when
// out_ is empty or longer than 255*32 bytes.
CryptoResult<void> hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, MutableByteSpan out_);

}  // namespace armored::crypto
