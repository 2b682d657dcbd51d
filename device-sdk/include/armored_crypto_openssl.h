#ifndef ARMORED_CRYPTO_OPENSSL_H
#define ARMORED_CRYPTO_OPENSSL_H
/* The crypto interface on OpenSSL 3 (libcrypto), for Linux-class devices. */

#include "armored_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

typedef struct armored_openssl_backend {
  struct evp_pkey_st *identity; /* the P-256 identity key; not owned (may be an engine/provider key) */
  /* Source of ephemeral scalars; NULL: OpenSSL's RAND_priv_bytes. */
  armored_random_fn random;
  void *random_user;
  /* Keyed AEAD contexts (EVP_CIPHER_CTX), reused while key and direction
   * stay the same, so a message sets only its nonce. Zero-initialise. */
  void *aead_ctx[2];
  uint8_t aead_key[2][32];
  uint8_t aead_alg[2], aead_enc[2], next_slot;
} armored_openssl_backend;

/* The operation table over backend b (which must outlive its use). */
armored_crypto armored_crypto_openssl(armored_openssl_backend *b);
/* Frees the cached AEAD contexts and wipes their keys (not the identity key). */
void armored_crypto_openssl_free(armored_openssl_backend *b);

#ifdef __cplusplus
}
#endif
#endif
