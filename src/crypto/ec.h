#pragma once
// P-256 keys: ECDH (raw SEC1 points and SubjectPublicKeyInfo DER) and ECDSA
// with SHA-256 (DER and IEEE P1363 r||s signatures, the latter as in COSE ES256).

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "crypto/error.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, for C libraries that take one

namespace armored::crypto {

inline constexpr std::size_t kP256PointSize = 65;      // 04 || x || y
inline constexpr std::size_t kP256ScalarSize = 32;
inline constexpr std::size_t kP256SharedSize = 32;     // the x-coordinate
inline constexpr std::size_t kP256P1363SigSize = 64;   // r || s

struct PkeyHandle;  // shared ownership of an OpenSSL EVP_PKEY

class EcPublicKey {
 public:
  // Accepts an uncompressed (65 bytes) or compressed (33 bytes) SEC1 point on
  // P-256; kBadKey for anything else, including points not on the curve.
  static CryptoResult<EcPublicKey> from_point(ByteSpan sec1);
  // Accepts a DER SubjectPublicKeyInfo of a P-256 key, no trailing bytes.
  static CryptoResult<EcPublicKey> from_spki_der(ByteSpan der);
  // Accepts a PEM "PUBLIC KEY" or the public key of a PEM certificate.
  static CryptoResult<EcPublicKey> from_pem(std::string_view pem);

  std::array<std::uint8_t, kP256PointSize> point() const;  // uncompressed SEC1
  Bytes spki_der() const;
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo).
  std::string to_pem() const;

  // ECDSA P-256 / SHA-256 verification. Returns false for malformed or wrong signatures.
  bool verify_der(ByteSpan message, ByteSpan signature_der) const;
  bool verify_p1363(ByteSpan message, ByteSpan signature_rs) const;

  const PkeyHandle& handle() const { return *key_; }

 private:
  explicit EcPublicKey(std::shared_ptr<PkeyHandle> k) : key_(std::move(k)) {}
  std::shared_ptr<PkeyHandle> key_;
};

class EcPrivateKey {
 public:
  // A fresh P-256 key from OpenSSL's DRBG.
  static CryptoResult<EcPrivateKey> generate();
  // A private key from its 32-byte big-endian scalar (1 <= d < n).
  static CryptoResult<EcPrivateKey> from_scalar(ByteSpan scalar);
  // PEM "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY", unencrypted, P-256 only.
  static CryptoResult<EcPrivateKey> from_pem(std::string_view pem);
  // Unencrypted PKCS#8 PEM; the caller stores it with mode 0600.
  std::string to_pem() const;

  CryptoResult<EcPublicKey> public_key() const;

  // ECDH: the 32-byte x-coordinate of d * peer. kBadKey if the peer key is invalid.
  CryptoResult<std::array<std::uint8_t, kP256SharedSize>> ecdh(const EcPublicKey& peer) const;

  // ECDSA P-256 / SHA-256 signatures (randomised by OpenSSL's DRBG).
  CryptoResult<Bytes> sign_der(ByteSpan message) const;
  CryptoResult<std::array<std::uint8_t, kP256P1363SigSize>> sign_p1363(ByteSpan message) const;

  // The key as OpenSSL's EVP_PKEY, borrowed: valid while this key or a copy
  // of it lives. For C code that signs through OpenSSL itself (the device
  // SDK's OpenSSL backend), so the key never leaves OpenSSL as bytes.
  evp_pkey_st* openssl_pkey() const;

 private:
  explicit EcPrivateKey(std::shared_ptr<PkeyHandle> k) : key_(std::move(k)) {}
  std::shared_ptr<PkeyHandle> key_;
};

// Signature format conversions (DER ECDSA-Sig-Value <-> r||s).
CryptoResult<std::array<std::uint8_t, kP256P1363SigSize>> ecdsa_der_to_p1363(ByteSpan der);
CryptoResult<Bytes> ecdsa_p1363_to_der(ByteSpan rs);

}  // namespace armored::crypto
