#include "crypto/error.h"

namespace armored::crypto {

const char* to_string(CryptoError e) {
  switch (e) {
    case CryptoError::kBadParameters: return "bad parameters";
    case CryptoError::kBadNonce: return "bad nonce length";
    case CryptoError::kBufferTooSmall: return "output buffer too small";
    case CryptoError::kAuthFailed: return "authentication failed";
    case CryptoError::kBadKey: return "bad key";
    case CryptoError::kBadSignature: return "bad signature";
    case CryptoError::kInternal: return "internal crypto error";
  }
  return "unknown crypto error";
}

}  // namespace armored::crypto
