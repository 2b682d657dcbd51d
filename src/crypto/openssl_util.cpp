#include "crypto/error.h"

#include <spdlog/spdlog.h>

#include "crypto/internal/openssl_util.h"

namespace armored::crypto {

namespace detail {

void drain_errors() {
  if (!spdlog::should_log(spdlog::level::debug)) {
    ossl::clear_errors();
    return;
  }
  if (std::string text = ossl::take_error_text(); !text.empty()) spdlog::debug("crypto: OpenSSL: {}", text);
}

}  // namespace detail

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
