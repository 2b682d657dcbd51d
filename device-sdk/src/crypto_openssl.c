/* armored_crypto over OpenSSL 3. After a failed call the error queue is
 * drained so a later, unrelated call does not report it. */

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include <string.h>

#include "armored_crypto_openssl.h"

static int fail(void) {
  ERR_clear_error();
  return -1;
}

static int ossl_sign(void *impl, const uint8_t *msg, size_t msg_len, uint8_t sig_out[64]) {
  armored_openssl_backend *b = (armored_openssl_backend *)impl;
  uint8_t der[80];
  size_t der_len = sizeof der;
  int ok = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, b->identity) == 1 &&
      EVP_DigestSign(md, der, &der_len, msg, msg_len) == 1) {
    const uint8_t *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig) {
      const BIGNUM *r = NULL, *s = NULL;
      ECDSA_SIG_get0(sig, &r, &s);
      ok = BN_bn2binpad(r, sig_out, 32) == 32 && BN_bn2binpad(s, sig_out + 32, 32) == 32;
      ECDSA_SIG_free(sig);
    }
  }
  EVP_MD_CTX_free(md);
  return ok ? 0 : fail();
}

static int ossl_ephemeral_ecdh(void *impl, const uint8_t peer[65], uint8_t public_out[65], uint8_t shared_out[32]) {
  armored_openssl_backend *b = (armored_openssl_backend *)impl;
  int ok = 0;
  uint8_t scalar[32];
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *bn = BN_CTX_secure_new();
  BIGNUM *d = BN_secure_new(), *x = BN_new();
  EC_POINT *q = g ? EC_POINT_new(g) : NULL, *p = g ? EC_POINT_new(g) : NULL, *z = g ? EC_POINT_new(g) : NULL;
  if (!g || !bn || !d || !x || !q || !p || !z || peer[0] != 0x04) goto done;
  /* Uniform in [1, n-1] by rejection. */
  for (int attempt = 0; attempt < 64; ++attempt) {
    const int got = b->random ? b->random(b->random_user, scalar, sizeof scalar) == 0
                              : RAND_priv_bytes(scalar, sizeof scalar) == 1;
    if (!got || !BN_bin2bn(scalar, sizeof scalar, d)) goto done;
    if (!BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0) break;
    BN_zero(d);
  }
  if (BN_is_zero(d)) goto done;
  BN_set_flags(d, BN_FLG_CONSTTIME);
  /* oct2point refuses points off the curve; the infinity check covers the rest. */
  if (EC_POINT_mul(g, q, d, NULL, NULL, bn) != 1 ||
      EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, public_out, 65, bn) != 65 ||
      EC_POINT_oct2point(g, p, peer, 65, bn) != 1 || EC_POINT_mul(g, z, NULL, p, d, bn) != 1 ||
      EC_POINT_is_at_infinity(g, z) || EC_POINT_get_affine_coordinates(g, z, x, NULL, bn) != 1 ||
      BN_bn2binpad(x, shared_out, 32) != 32) {
    goto done;
  }
  ok = 1;
done:
  OPENSSL_cleanse(scalar, sizeof scalar);
  EC_POINT_clear_free(q);
  EC_POINT_clear_free(p);
  EC_POINT_clear_free(z);
  BN_clear_free(d);
  BN_clear_free(x);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  return ok ? 0 : fail();
}

static int ossl_hmac(void *impl, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                     uint8_t mac_out[32]) {
  (void)impl;
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac_out, &len) || len != 32) return fail();
  return 0;
}

static const EVP_CIPHER *cipher_of(armored_aead alg, size_t *tag_len) {
  *tag_len = 16;
  switch (alg) {
    case ARMORED_AES_128_GCM: return EVP_aes_128_gcm();
    case ARMORED_AES_256_GCM: return EVP_aes_256_gcm();
    case ARMORED_AES_CCM_16_64_128: *tag_len = 8; return EVP_aes_128_ccm();
    case ARMORED_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
  }
  return NULL;
}

/* The context keyed for (alg, key, enc), from the cache or newly keyed into
 * the slot used less recently. */
static EVP_CIPHER_CTX *keyed_ctx(armored_openssl_backend *b, int enc, armored_aead alg, const uint8_t *key,
                                 size_t nonce_len) {
  size_t tag_len;
  const EVP_CIPHER *cipher = cipher_of(alg, &tag_len);
  if (!cipher) return NULL;
  const size_t key_len = (size_t)EVP_CIPHER_get_key_length(cipher);
  for (int i = 0; i < 2; ++i) {
    if (b->aead_ctx[i] && b->aead_alg[i] == (uint8_t)alg && b->aead_enc[i] == (uint8_t)enc &&
        CRYPTO_memcmp(b->aead_key[i], key, key_len) == 0) {
      return (EVP_CIPHER_CTX *)b->aead_ctx[i];
    }
  }
  const int slot = b->next_slot;
  b->next_slot = (uint8_t)(slot ^ 1);
  EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)b->aead_ctx[slot]);
  b->aead_ctx[slot] = NULL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  /* CCM fixes the tag length before the key. */
  if (!c || EVP_CipherInit_ex(c, cipher, NULL, NULL, NULL, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)nonce_len, NULL) != 1 ||
      (alg == ARMORED_AES_CCM_16_64_128 && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, NULL) != 1) ||
      EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc) != 1) {
    EVP_CIPHER_CTX_free(c);
    return NULL;
  }
  b->aead_ctx[slot] = c;
  memcpy(b->aead_key[slot], key, key_len);
  b->aead_alg[slot] = (uint8_t)alg;
  b->aead_enc[slot] = (uint8_t)enc;
  return c;
}

static int ossl_aead(armored_openssl_backend *b, int enc, armored_aead alg, const uint8_t *key, const uint8_t *nonce,
                     size_t nonce_len, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len,
                     uint8_t *out) {
  size_t tag_len;
  if (!cipher_of(alg, &tag_len) || (!enc && in_len < tag_len)) return -1;
  const int ccm = alg == ARMORED_AES_CCM_16_64_128;
  const size_t len = enc ? in_len : in_len - tag_len;
  int n = 0;
  EVP_CIPHER_CTX *c = keyed_ctx(b, enc, alg, key, nonce_len);
  if (!c || EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1) return fail();
  /* CCM takes the expected tag and the total length before the data. */
  if (ccm && !enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, (void *)(in + len)) != 1) return fail();
  if (ccm && EVP_CipherUpdate(c, NULL, &n, NULL, (int)len) != 1) return fail();
  if (aad_len && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1) return fail();
  if (!enc && !ccm && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag_len, (void *)(in + len)) != 1) return fail();
  /* CCM reports a wrong tag from the update call, the others from final. */
  if (EVP_CipherUpdate(c, out, &n, in, (int)len) != 1) return fail();
  if (!ccm && EVP_CipherFinal_ex(c, out + n, &n) != 1) return fail();
  if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, out + len) != 1) return fail();
  return 0;
}

static int ossl_encrypt(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                        const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  return ossl_aead((armored_openssl_backend *)impl, 1, alg, key, nonce, nonce_len, aad, aad_len, pt, pt_len, out);
}

static int ossl_decrypt(void *impl, armored_aead alg, const uint8_t *key, const uint8_t *nonce, size_t nonce_len,
                        const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out) {
  return ossl_aead((armored_openssl_backend *)impl, 0, alg, key, nonce, nonce_len, aad, aad_len, ct, ct_len, out);
}

static const armored_crypto_ops kOpensslOps = {ossl_sign, ossl_ephemeral_ecdh, ossl_hmac, ossl_encrypt, ossl_decrypt};

armored_crypto armored_crypto_openssl(armored_openssl_backend *b) {
  armored_crypto c = {&kOpensslOps, b};
  return c;
}

void armored_crypto_openssl_free(armored_openssl_backend *b) {
  for (int i = 0; i < 2; ++i) {
    EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)b->aead_ctx[i]);
    b->aead_ctx[i] = NULL;
  }
  OPENSSL_cleanse(b->aead_key, sizeof b->aead_key);
}
