#pragma once
// AEAD with a reusable keyed context: the key schedule runs once in create();
// seal() and open() take only nonce, AAD and data and allocate nothing.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/bytes.h"
#include "crypto/error.h"

namespace armored::crypto {

// The AEADs E3 speaks, named as in RFC 9053. Values are the COSE algorithm
// identifiers so they can be written to the wire and to CBOR directly.
enum class AeadAlg : std::int32_t {
  kAes128Gcm = 1,
  kAes256Gcm = 3,
  kAesCcm16_64_128 = 10,  // 13-byte nonce, 8-byte tag
  kChaCha20Poly1305 = 24,
};

enum class AeadCipher : std::uint8_t { kAesGcm, kAesCcm, kChaCha20Poly1305 };

// Full parameter set; the AeadAlg values map onto fixed specs, test vectors
// may use others (AES-192, other nonce and tag sizes) within what the
// mode allows.
struct AeadSpec {
  AeadCipher cipher;
  std::size_t key_len;
  std::size_t nonce_len;
  std::size_t tag_len;
};

AeadSpec spec_of(AeadAlg alg);
std::string_view name_of(AeadAlg alg);
// Parses a COSE algorithm identifier; nullopt for anything E3 does not support.
std::optional<AeadAlg> aead_from_cose(std::int64_t id);
inline constexpr AeadAlg kAllAeads[] = {AeadAlg::kAes128Gcm, AeadAlg::kAes256Gcm,
                                        AeadAlg::kAesCcm16_64_128, AeadAlg::kChaCha20Poly1305};

// What a context is keyed for. Each operation is one OpenSSL context of
// about a kilobyte, so a holder that only opens (or only seals) with a key
// keys that one alone.
enum class AeadUse : std::uint8_t { kSealAndOpen, kSealOnly, kOpenOnly };

class AeadContext {
 public:
  // Keys a context. kBadParameters if the spec is not allowed for the mode
  // (GCM: nonce 1..128 bytes, tag 16; CCM: nonce 7..13, tag 4..16 even;
  // ChaCha20-Poly1305: nonce 12, tag 16) or the key length is wrong.
  static CryptoResult<AeadContext> create(AeadSpec spec, ByteSpan key, AeadUse use = AeadUse::kSealAndOpen);
  static CryptoResult<AeadContext> create(AeadAlg alg, ByteSpan key, AeadUse use = AeadUse::kSealAndOpen) {
    return create(spec_of(alg), key, use);
  }

  AeadContext(AeadContext&&) noexcept;
  AeadContext& operator=(AeadContext&&) noexcept;
  ~AeadContext();

  const AeadSpec& spec() const { return spec_; }
  AeadUse use() const { return use_; }

  // Keys the context with another key of the same spec and use, reusing its
  // OpenSSL contexts: only the key schedule runs, nothing is allocated.
  // kBadParameters for a key of the wrong length; after kInternal the
  // context must not be used until a rekey() succeeds.
  CryptoResult<void> rekey(ByteSpan key);

  // Writes ciphertext || tag (plaintext.size() + tag_len bytes) to out_ and
  // returns that size. out_ may alias plaintext exactly (in place).
  // kBadParameters on a context keyed kOpenOnly (and open() on kSealOnly).
  CryptoResult<std::size_t> seal(ByteSpan nonce, ByteSpan aad, ByteSpan plaintext,
                                 MutableByteSpan out_) const;
  // Verifies and decrypts ciphertext || tag into out_, returning the
  // plaintext size. On kAuthFailed out_ has been wiped.
  CryptoResult<std::size_t> open(ByteSpan nonce, ByteSpan aad, ByteSpan sealed,
                                 MutableByteSpan out_) const;

 private:
  struct Impl;
  AeadContext(AeadSpec spec, AeadUse use, std::unique_ptr<Impl> impl);
  AeadSpec spec_;
  AeadUse use_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::crypto
