#include "crypto/secure_zero.h"

#include <openssl/crypto.h>

namespace armored::crypto {

void secure_zero(std::span<std::uint8_t> data) {
  if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
}

}  // namespace armored::crypto
