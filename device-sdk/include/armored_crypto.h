#ifndef ARMORED_CRYPTO_H
#define ARMORED_CRYPTO_H
/* The crypto a device needs for E3, as a table of five operations. The E3
 * code never sees a private key: the identity key and the ephemeral key of an
 * epoch live behind `impl` (a PSA key id, an OpenSSL EVP_PKEY, a secure
 * element slot), so signing and ECDH go through here. Symmetric keys are
 * passed by value because they are derived by E3 itself (HKDF) and used per
 * message.
 *
 * Every operation returns 0 on success and non-zero on failure; an
 * implementation must not keep pointers to its arguments. Backends shipped:
 * armored_crypto_openssl.h (Linux-class devices) and armored_crypto_psa.h
 * (PSA Crypto API of Mbed TLS: Zephyr, nRF Connect SDK, ESP-IDF). */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* AEADs of docs/e3-protocol.md section 5.2, by COSE algorithm id. */
typedef enum armored_aead {
  ARMORED_AES_128_GCM = 1,
  ARMORED_AES_256_GCM = 3,
  ARMORED_AES_CCM_16_64_128 = 10,
  ARMORED_CHACHA20_POLY1305 = 24
} armored_aead;

/* Gives `len` bytes from a cryptographically secure source; 0 on success. */
typedef int (*armored_random_fn)(void *user, uint8_t *out, size_t len);

typedef struct armored_crypto_ops {
  /* ECDSA P-256 with SHA-256 over msg, with the device's identity key;
   * writes r || s (IEEE P1363, 64 bytes). */
  int (*sign)(void *impl, const uint8_t *msg, size_t msg_len, uint8_t sig_out[64]);
  /* Makes a fresh P-256 key pair e, writes its uncompressed public point
   * (0x04 || x || y) and the x-coordinate of ECDH(e, peer), then erases e.
   * Fails if peer is not a valid uncompressed P-256 point. */
  int (*ephemeral_ecdh)(void *impl, const uint8_t peer[65], uint8_t public_out[65], uint8_t shared_out[32]);
  /* HMAC-SHA-256 (key_len <= 64). */
  int (*hmac_sha256)(void *impl, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                     uint8_t mac_out[32]);
  /* AEAD seal: writes pt_len bytes of ciphertext then the tag (16 bytes, 8
   * for AES-CCM-16-64-128) to out. key is 16 or 32 bytes as alg needs,
   * nonce 12 or 13 bytes. out may equal pt. */
  int (*aead_encrypt)(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *out);
  /* AEAD open of ct (ciphertext || tag, ct_len >= tag): writes ct_len - tag
   * bytes to out; non-zero when the tag does not verify (out is then
   * meaningless and the caller wipes it). */
  int (*aead_decrypt)(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out);
} armored_crypto_ops;

typedef struct armored_crypto {
  const armored_crypto_ops *ops;
  void *impl;
} armored_crypto;

#ifdef __cplusplus
}
#endif
#endif
