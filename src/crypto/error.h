#pragma once
// Errors of the crypto adapter. Every wrapper returns Result<T, CryptoError>;
// OpenSSL's error queue is drained before returning so failures never leak
// into unrelated later calls.

#include <cstdint>

#include "common/result.h"

namespace armored::crypto {

enum class CryptoError : std::uint8_t {
  kBadParameters,   // key, nonce or tag size not allowed for the algorithm
  kBadNonce,        // nonce length differs from the context's nonce length
  kBufferTooSmall,  // output span cannot hold the result
  kAuthFailed,      // AEAD tag mismatch; the output has been wiped
  kBadKey,          // public or private key malformed, wrong curve, not on curve
  kBadSignature,    // signature malformed or does not verify
  kInternal,        // OpenSSL reported an unexpected failure
};

const char* to_string(CryptoError e);

template <typename T>
using CryptoResult = Result<T, CryptoError>;

}  // namespace armored::crypto
