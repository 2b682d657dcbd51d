/* armored_crypto over the PSA Crypto API. */

#include <string.h>

#include "armored_crypto_psa.h"

static void wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
}

static int psa_sign(void *impl, const uint8_t *msg, size_t msg_len, uint8_t sig_out[64]) {
  armored_psa_backend *b = (armored_psa_backend *)impl;
  size_t len = 0;
  /* PSA writes ECDSA signatures as r || s, the COSE form. */
  const psa_status_t st =
      psa_sign_message(b->identity, PSA_ALG_ECDSA(PSA_ALG_SHA_256), msg, msg_len, sig_out, 64, &len);
  return st == PSA_SUCCESS && len == 64 ? 0 : -1;
}

static int psa_ephemeral_ecdh(void *impl, const uint8_t peer[65], uint8_t public_out[65], uint8_t shared_out[32]) {
  armored_psa_backend *b = (armored_psa_backend *)impl;
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
  psa_key_id_t eph = 0;
  psa_status_t st = PSA_ERROR_GENERIC_ERROR;
  if (b->random) {
    /* psa_import_key refuses scalars outside [1, n-1]: draw again. */
    uint8_t scalar[32];
    for (int attempt = 0; attempt < 64 && st != PSA_SUCCESS; ++attempt) {
      if (b->random(b->random_user, scalar, sizeof scalar) != 0) break;
      st = psa_import_key(&attr, scalar, sizeof scalar, &eph);
    }
    wipe(scalar, sizeof scalar);
  } else {
    st = psa_generate_key(&attr, &eph);
  }
  if (st != PSA_SUCCESS) return -1;
  size_t len = 0, zlen = 0;
  st = psa_export_public_key(eph, public_out, 65, &len);
  if (st == PSA_SUCCESS && len == 65) st = psa_raw_key_agreement(PSA_ALG_ECDH, eph, peer, 65, shared_out, 32, &zlen);
  psa_destroy_key(eph); /* erases e */
  return st == PSA_SUCCESS && len == 65 && zlen == 32 ? 0 : -1;
}

static int psa_hmac(void *impl, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                    uint8_t mac_out[32]) {
  (void)impl;
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_HMAC);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
  psa_set_key_algorithm(&attr, PSA_ALG_HMAC(PSA_ALG_SHA_256));
  psa_key_id_t id = 0;
  size_t len = 0;
  psa_status_t st = psa_import_key(&attr, key, key_len, &id);
  if (st != PSA_SUCCESS) return -1;
  st = psa_mac_compute(id, PSA_ALG_HMAC(PSA_ALG_SHA_256), msg, msg_len, mac_out, 32, &len);
  psa_destroy_key(id);
  return st == PSA_SUCCESS && len == 32 ? 0 : -1;
}

static psa_algorithm_t psa_alg_of(armored_aead alg, psa_key_type_t *type, size_t *bits) {
  *type = PSA_KEY_TYPE_AES;
  *bits = 128;
  switch (alg) {
    case ARMORED_AES_128_GCM: return PSA_ALG_GCM;
    case ARMORED_AES_256_GCM: *bits = 256; return PSA_ALG_GCM;
    case ARMORED_AES_CCM_16_64_128: return PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8);
    case ARMORED_CHACHA20_POLY1305: *type = PSA_KEY_TYPE_CHACHA20; *bits = 256; return PSA_ALG_CHACHA20_POLY1305;
  }
  return 0;
}

/* The key id for these key bytes: a message reuses the key its direction
 * imported last, so an epoch imports each key once. */
static psa_key_id_t aead_key(armored_psa_backend *b, armored_aead alg, const uint8_t *key, psa_algorithm_t a,
                             psa_key_type_t type, size_t bits) {
  const size_t len = bits / 8;
  for (int i = 0; i < 2; ++i) {
    if (b->aead_key[i] != 0 && b->aead_alg[i] == (uint8_t)alg && memcmp(b->aead_bytes[i], key, len) == 0) {
      return b->aead_key[i];
    }
  }
  /* Replace the slot imported less recently. */
  const int slot = b->next_slot;
  b->next_slot = (uint8_t)(slot ^ 1);
  if (b->aead_key[slot] != 0) psa_destroy_key(b->aead_key[slot]);
  b->aead_key[slot] = 0;
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, type);
  psa_set_key_bits(&attr, bits);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
  psa_set_key_algorithm(&attr, a);
  psa_key_id_t id = 0;
  if (psa_import_key(&attr, key, len, &id) != PSA_SUCCESS) return 0;
  b->aead_key[slot] = id;
  memcpy(b->aead_bytes[slot], key, len);
  b->aead_alg[slot] = (uint8_t)alg;
  return id;
}

static int psa_aead(armored_psa_backend *b, int enc, armored_aead alg, const uint8_t *key, const uint8_t *nonce,
                    size_t nonce_len, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
                    uint8_t *out) {
  psa_key_type_t type;
  size_t bits, len = 0;
  const psa_algorithm_t a = psa_alg_of(alg, &type, &bits);
  if (a == 0) return -1;
  const psa_key_id_t id = aead_key(b, alg, key, a, type, bits);
  if (id == 0) return -1;
  const size_t tag = alg == ARMORED_AES_CCM_16_64_128 ? 8 : 16;
  psa_status_t st;
  if (enc) {
    st = psa_aead_encrypt(id, a, nonce, nonce_len, aad, aad_len, in, in_len, out, in_len + tag, &len);
    return st == PSA_SUCCESS && len == in_len + tag ? 0 : -1;
  }
  if (in_len < tag) return -1;
  st = psa_aead_decrypt(id, a, nonce, nonce_len, aad, aad_len, in, in_len, out, in_len - tag, &len);
  return st == PSA_SUCCESS && len == in_len - tag ? 0 : -1;
}

static int psa_encrypt(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                       const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  return psa_aead((armored_psa_backend *)impl, 1, alg, key, nonce, nonce_len, aad, aad_len, pt, pt_len, out);
}

static int psa_decrypt(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                       const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out) {
  return psa_aead((armored_psa_backend *)impl, 0, alg, key, nonce, nonce_len, aad, aad_len, ct, ct_len, out);
}

static const armored_crypto_ops kPsaOps = {psa_sign, psa_ephemeral_ecdh, psa_hmac, psa_encrypt, psa_decrypt};

int armored_crypto_psa_init(armored_psa_backend *b, armored_crypto *out) {
  if (psa_crypto_init() != PSA_SUCCESS) return -1;
  b->aead_key[0] = b->aead_key[1] = 0;
  b->next_slot = 0;
  out->ops = &kPsaOps;
  out->impl = b;
  return 0;
}

void armored_crypto_psa_free(armored_psa_backend *b) {
  for (int i = 0; i < 2; ++i) {
    if (b->aead_key[i] != 0) psa_destroy_key(b->aead_key[i]);
    b->aead_key[i] = 0;
  }
  wipe(b->aead_bytes, sizeof b->aead_bytes);
}
