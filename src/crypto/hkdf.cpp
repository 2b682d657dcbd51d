#include "crypto/hkdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "crypto/internal/openssl_util.h"

namespace armored::crypto {
namespace {

EVP_KDF* hkdf_algorithm() {
  // Fetched once; lives for the program (reachable, so not a leak).
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}

}  // namespace

CryptoResult<void> hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, MutableByteSpan out_) {
  if (out_.empty() || out_.size() > kHkdfSha256MaxOutput) return unexpected(CryptoError::kBadParameters);
  EVP_KDF* kdf = hkdf_algorithm();
  if (kdf == nullptr) return unexpected(CryptoError::kInternal);
  detail::KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (!ctx) return unexpected(CryptoError::kInternal);

  // OpenSSL reads the octet strings without modifying them.
  char digest[] = "SHA256";
  std::uint8_t empty = 0;
  auto octets = [&](const char* key, ByteSpan b) {
    return OSSL_PARAM_construct_octet_string(
        key, b.empty() ? &empty : const_cast<std::uint8_t*>(b.data()), b.size());
  };
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
  if (!salt.empty()) params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  if (!info.empty()) params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();

  if (EVP_KDF_derive(ctx.get(), out_.data(), out_.size(), params) != 1) {
    detail::drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  return {};
}

}  // namespace armored::crypto
