#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/internal/openssl_util.h"
#include "crypto/secure_zero.h"

namespace armored::crypto {
namespace {

constexpr std::size_t kMaxGcmNonce = 128;

const EVP_CIPHER* cipher_for(const AeadSpec& s) {
  switch (s.cipher) {
    case AeadCipher::kAesGcm:
      return s.key_len == 16 ? EVP_aes_128_gcm() : s.key_len == 24 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
    case AeadCipher::kAesCcm:
      return s.key_len == 16 ? EVP_aes_128_ccm() : s.key_len == 24 ? EVP_aes_192_ccm() : EVP_aes_256_ccm();
    case AeadCipher::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

bool spec_allowed(const AeadSpec& s) {
  switch (s.cipher) {
    case AeadCipher::kAesGcm:
      // SP 800-38D allows any IV length >= 1 bit; OpenSSL's GCM takes at most
      // 128 bytes (GCM_IV_MAX_SIZE). E3 itself uses 12 bytes.
      return (s.key_len == 16 || s.key_len == 24 || s.key_len == 32) && s.nonce_len >= 1 &&
             s.nonce_len <= kMaxGcmNonce && s.tag_len == 16;
    case AeadCipher::kAesCcm:
      // SP 800-38C: nonce 7..13 bytes, tag 4..16 bytes and even.
      return (s.key_len == 16 || s.key_len == 24 || s.key_len == 32) && s.nonce_len >= 7 &&
             s.nonce_len <= 13 && s.tag_len >= 4 && s.tag_len <= 16 && s.tag_len % 2 == 0;
    case AeadCipher::kChaCha20Poly1305:
      return s.key_len == 32 && s.nonce_len == 12 && s.tag_len == 16;
  }
  return false;
}

int len_int(std::size_t n) { return static_cast<int>(n); }

// The tag goes through the provider parameter API directly: EVP_CIPHER_CTX_ctrl
// would translate to the same OSSL_PARAM call with extra work per message.
// The OSSL_PARAM is filled in place (it is a plain public struct) rather than
// through OSSL_PARAM_construct_*, which are out-of-line calls.
OSSL_PARAM tag_param(std::uint8_t* tag, std::size_t len) {
  return {OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, tag, len, OSSL_PARAM_UNMODIFIED};
}
bool get_tag(EVP_CIPHER_CTX* ctx, std::uint8_t* tag, std::size_t len) {
  OSSL_PARAM params[2] = {tag_param(tag, len), OSSL_PARAM_END};
  return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}
bool set_tag(EVP_CIPHER_CTX* ctx, std::uint8_t* tag, std::size_t len) {
  OSSL_PARAM params[2] = {tag_param(tag, len), OSSL_PARAM_END};
  return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

}  // namespace

AeadSpec spec_of(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::kAes128Gcm: return {AeadCipher::kAesGcm, 16, 12, 16};
    case AeadAlg::kAes256Gcm: return {AeadCipher::kAesGcm, 32, 12, 16};
    case AeadAlg::kAesCcm16_64_128: return {AeadCipher::kAesCcm, 16, 13, 8};
    case AeadAlg::kChaCha20Poly1305: return {AeadCipher::kChaCha20Poly1305, 32, 12, 16};
  }
  return {AeadCipher::kAesGcm, 0, 0, 0};
}

std::string_view name_of(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::kAes128Gcm: return "A128GCM";
    case AeadAlg::kAes256Gcm: return "A256GCM";
    case AeadAlg::kAesCcm16_64_128: return "AES-CCM-16-64-128";
    case AeadAlg::kChaCha20Poly1305: return "ChaCha20/Poly1305";
  }
  return "unknown";
}

std::optional<AeadAlg> aead_from_cose(std::int64_t id) {
  switch (id) {
    case 1: return AeadAlg::kAes128Gcm;
    case 3: return AeadAlg::kAes256Gcm;
    case 10: return AeadAlg::kAesCcm16_64_128;
    case 24: return AeadAlg::kChaCha20Poly1305;
    default: return std::nullopt;
  }
}

// Pre-keyed contexts: OpenSSL contexts are directional, and keeping both
// keyed lets a per-message call set only the nonce. One of them is null
// for a context keyed for one use only.
struct AeadContext::Impl {
  detail::CipherCtxPtr enc;
  detail::CipherCtxPtr dec;
};

namespace {

bool key_context(EVP_CIPHER_CTX* ctx, const AeadSpec& s, ByteSpan key, int encrypt) {
  const EVP_CIPHER* cipher = cipher_for(s);
  if (EVP_CipherInit_ex(ctx, cipher, nullptr, nullptr, nullptr, encrypt) != 1) return false;
  if (s.cipher != AeadCipher::kChaCha20Poly1305 || s.nonce_len != 12) {
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, len_int(s.nonce_len), nullptr) != 1) return false;
  }
  if (s.cipher == AeadCipher::kAesCcm &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, len_int(s.tag_len), nullptr) != 1) {
    return false;
  }
  return EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nullptr, encrypt) == 1;
}

}  // namespace

CryptoResult<AeadContext> AeadContext::create(AeadSpec spec, ByteSpan key, AeadUse use) {
  if (!spec_allowed(spec) || key.size() != spec.key_len) return unexpected(CryptoError::kBadParameters);
  auto impl = std::make_unique<Impl>();
  bool ok = true;
  if (use != AeadUse::kOpenOnly) {
    impl->enc.reset(EVP_CIPHER_CTX_new());
    ok = impl->enc && key_context(impl->enc.get(), spec, key, 1);
  }
  if (ok && use != AeadUse::kSealOnly) {
    impl->dec.reset(EVP_CIPHER_CTX_new());
    ok = impl->dec && key_context(impl->dec.get(), spec, key, 0);
  }
  if (!ok) {
    detail::drain_errors();
    return unexpected(CryptoError::kInternal);
  }
  return AeadContext(spec, use, std::move(impl));
}

CryptoResult<void> AeadContext::rekey(ByteSpan key) {
  if (key.size() != spec_.key_len) return unexpected(CryptoError::kBadParameters);
  // The cipher, nonce length and (CCM) tag length stay as create() set
  // them; a key alone re-runs the key schedule in the same context.
  for (auto [ctx, encrypt] : {std::pair{impl_->enc.get(), 1}, std::pair{impl_->dec.get(), 0}}) {
    if (ctx != nullptr && EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nullptr, encrypt) != 1) {
      detail::drain_errors();
      return unexpected(CryptoError::kInternal);
    }
  }
  return {};
}

AeadContext::AeadContext(AeadSpec spec, AeadUse use, std::unique_ptr<Impl> impl)
    : spec_(spec), use_(use), impl_(std::move(impl)) {}
AeadContext::AeadContext(AeadContext&&) noexcept = default;
AeadContext& AeadContext::operator=(AeadContext&&) noexcept = default;
AeadContext::~AeadContext() = default;

CryptoResult<std::size_t> AeadContext::seal(ByteSpan nonce, ByteSpan aad, ByteSpan plaintext,
                                            MutableByteSpan out_) const {
  if (!impl_->enc) return unexpected(CryptoError::kBadParameters);
  if (nonce.size() != spec_.nonce_len) return unexpected(CryptoError::kBadNonce);
  const std::size_t total = plaintext.size() + spec_.tag_len;
  if (out_.size() < total) return unexpected(CryptoError::kBufferTooSmall);
  EVP_CIPHER_CTX* ctx = impl_->enc.get();
  const bool ccm = spec_.cipher == AeadCipher::kAesCcm;
  int len = 0;
  bool ok = EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1;
  // CCM must know the message length before it sees the AAD (RFC 3610 B_0).
  if (ok && ccm) ok = EVP_EncryptUpdate(ctx, nullptr, &len, nullptr, len_int(plaintext.size())) == 1;
  if (ok && !aad.empty()) ok = EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), len_int(aad.size())) == 1;
  std::uint8_t dummy = 0;
  std::uint8_t* out = out_.data();
  if (ok && (ccm || !plaintext.empty())) {
    const std::uint8_t* in = plaintext.empty() ? &dummy : plaintext.data();
    ok = EVP_EncryptUpdate(ctx, out, &len, in, len_int(plaintext.size())) == 1;
  }
  if (ok) ok = EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len) == 1;
  if (ok) {
    ok = get_tag(ctx, out + plaintext.size(), spec_.tag_len);
  }
  if (!ok) {
    detail::drain_errors();
    secure_zero(out_.first(total));
    return unexpected(CryptoError::kInternal);
  }
  return total;
}

CryptoResult<std::size_t> AeadContext::open(ByteSpan nonce, ByteSpan aad, ByteSpan sealed,
                                            MutableByteSpan out_) const {
  if (!impl_->dec) return unexpected(CryptoError::kBadParameters);
  if (nonce.size() != spec_.nonce_len) return unexpected(CryptoError::kBadNonce);
  if (sealed.size() < spec_.tag_len) return unexpected(CryptoError::kAuthFailed);
  const std::size_t pt_len = sealed.size() - spec_.tag_len;
  if (out_.size() < pt_len) return unexpected(CryptoError::kBufferTooSmall);
  EVP_CIPHER_CTX* ctx = impl_->dec.get();
  const bool ccm = spec_.cipher == AeadCipher::kAesCcm;
  // OpenSSL takes the expected tag through a non-const pointer; it only copies it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + pt_len);
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1;
  // CCM needs the tag before the ciphertext; GCM and ChaCha20-Poly1305 get it
  // just before the final check. (Passing it as an EVP_DecryptInit_ex2
  // parameter measured slower.)
  if (ok && ccm) ok = set_tag(ctx, tag, spec_.tag_len);
  // CCM must know the message length before it sees the AAD (RFC 3610 B_0).
  if (ok && ccm) ok = EVP_DecryptUpdate(ctx, nullptr, &len, nullptr, len_int(pt_len)) == 1;
  if (ok && !aad.empty()) ok = EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), len_int(aad.size())) == 1;
  std::uint8_t dummy_in = 0;
  std::uint8_t dummy_out = 0;
  std::uint8_t* out = pt_len == 0 ? &dummy_out : out_.data();
  if (ok && (ccm || pt_len != 0)) {
    const std::uint8_t* in = pt_len == 0 ? &dummy_in : sealed.data();
    // For CCM this call also checks the tag.
    ok = EVP_DecryptUpdate(ctx, out, &len, in, len_int(pt_len)) == 1;
  }
  if (ok && !ccm) {
    ok = set_tag(ctx, tag, spec_.tag_len) && EVP_DecryptFinal_ex(ctx, out + (pt_len == 0 ? 0 : pt_len), &len) == 1;
  }
  if (!ok) {
    detail::drain_errors();
    secure_zero(out_.first(pt_len));
    return unexpected(CryptoError::kAuthFailed);
  }
  return pt_len;
}

}  // namespace armored::crypto
