#ifndef ARMORED_CRYPTO_PSA_H
#define ARMORED_CRYPTO_PSA_H
/* The crypto interface on the PSA Crypto API (as implemented by Mbed TLS
 * 2.28 and later, TF-M, or a vendor's secure element driver). Every
 * operation E3 needs is in PSA 2.28: ECDSA (psa_sign_message), ECDH
 * (psa_raw_key_agreement), HMAC (psa_mac_compute) and the AEADs
 * (psa_aead_encrypt/decrypt); no native Mbed TLS call is made. */

#include <psa/crypto.h>

#include "armored_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct armored_psa_backend {
  /* The identity key: ECC_KEY_PAIR(SECP_R1), 256 bits, usage
   * PSA_KEY_USAGE_SIGN_MESSAGE, algorithm PSA_ALG_ECDSA(PSA_ALG_SHA_256).
   * Volatile, persistent or in a secure element: E3 only signs with it. */
  psa_key_id_t identity;
  /* Source of ephemeral scalars; NULL: psa_generate_key (the PSA RNG). */
  armored_random_fn random;
  void *random_user;
  /* Per-epoch AEAD keys imported once and reused while they do not change. */
  psa_key_id_t aead_key[2];
  uint8_t aead_bytes[2][32];
  uint8_t aead_alg[2];
  uint8_t next_slot;
} armored_psa_backend;

/* Calls psa_crypto_init() and fills *out with the operation table over b
 * (which must outlive its use). 0 on success. */
int armored_crypto_psa_init(armored_psa_backend *b, armored_crypto *out);
/* Destroys the cached AEAD keys (not the identity key). */
void armored_crypto_psa_free(armored_psa_backend *b);

#ifdef __cplusplus
}
#endif
#endif
