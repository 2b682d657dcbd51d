/* E3 device side: epochs, sealing, command opening, persistent state.
 * Section numbers refer to docs/e3-protocol.md. */

#include <string.h>

#include "armored_device.h"

#define ARMORED_MAX_SEQ ((UINT64_C(1) << 40) - 1)
#define DEVICE_SENDER_ID 0x00
#define CLOUD_SENDER_ID 0x01
#define TYPE_UPLINK 0
#define TYPE_DOWNLINK 1
#define TYPE_ANNOUNCEMENT 2
#define WINDOW_SIZE 64
#define STATE_VERSION 1

/* ---- small helpers ---- */

/* Erases secrets in a way the compiler may not drop. */
static void wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
}

static void put_be(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

/* CBOR head with the shortest argument (RFC 8949 4.2.1); returns its size. */
static size_t cbor_head(uint8_t *p, uint8_t major, uint64_t v) {
  const uint8_t mt = (uint8_t)(major << 5);
  if (v < 24) {
    p[0] = (uint8_t)(mt | v);
    return 1;
  }
  const size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
  p[0] = (uint8_t)(mt | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  put_be(p + 1, v, n);
  return 1 + n;
}

static size_t cbor_bstr(uint8_t *p, const uint8_t *b, size_t len) {
  size_t n = cbor_head(p, 2, len);
  memcpy(p + n, b, len);
  return n + len;
}

static size_t cbor_tstr(uint8_t *p, const char *s) {
  const size_t len = strlen(s);
  size_t n = cbor_head(p, 3, len);
  memcpy(p + n, s, len);
  return n + len;
}

static size_t piv_len(uint64_t seq) {
  size_t n = 1;
  while (n < 5 && (seq >> (8 * n)) != 0) ++n;
  return n;
}

static int aead_params(uint8_t alg, uint8_t *key_len, uint8_t *nonce_len, uint8_t *tag_len) {
  switch (alg) {
    case ARMORED_AES_128_GCM: *key_len = 16; *nonce_len = 12; *tag_len = 16; return 1;
    case ARMORED_AES_256_GCM: *key_len = 32; *nonce_len = 12; *tag_len = 16; return 1;
    case ARMORED_AES_CCM_16_64_128: *key_len = 16; *nonce_len = 13; *tag_len = 8; return 1;
    case ARMORED_CHACHA20_POLY1305: *key_len = 32; *nonce_len = 12; *tag_len = 16; return 1;
    default: return 0;
  }
}

const char *armored_status_name(armored_status s) {
  switch (s) {
    case ARMORED_OK: return "ok";
    case ARMORED_E_MALFORMED: return "malformed";
    case ARMORED_E_UNKNOWN_KEY_ID: return "unknown_key_id";
    case ARMORED_E_UNKNOWN_EPOCH: return "unknown_epoch";
    case ARMORED_E_AUTHENTICATION_FAILED: return "authentication_failed";
    case ARMORED_E_REPLAYED: return "replayed";
    case ARMORED_E_TOO_OLD: return "too_old";
    case ARMORED_E_OVERSIZED: return "oversized";
    case ARMORED_E_ROTATION_REQUIRED: return "rotation_required";
    case ARMORED_E_PERSIST_FAILED: return "persist_failed";
    case ARMORED_E_BUFFER_TOO_SMALL: return "buffer_too_small";
    case ARMORED_E_BAD_CONFIG: return "bad_config";
    case ARMORED_E_CRYPTO: return "crypto";
    case ARMORED_E_NOT_ANSWER: return "not_answer";
    case ARMORED_E_FULL: return "full";
  }
  return "unknown";
}

/* ---- key schedule (sections 5 and 6) ---- */

/* HKDF-SHA-256 (RFC 5869) for L <= 32, the only lengths E3 needs: one
 * expand block, T(1) = HMAC(PRK, info || 0x01). An empty salt is 32 zeros. */
static int hkdf32(const armored_ctx *ctx, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                  uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
  static const uint8_t zeros[32] = {0};
  uint8_t prk[32], t[32];
  const armored_crypto_ops *c = ctx->crypto.ops;
  if (salt_len == 0) {
    salt = zeros;
    salt_len = sizeof zeros;
  }
  /* The caller leaves one spare byte after info for the block counter. */
  info[info_len] = 0x01;
  int rc = c->hmac_sha256(ctx->crypto.impl, salt, salt_len, ikm, ikm_len, prk);
  if (rc == 0) rc = c->hmac_sha256(ctx->crypto.impl, prk, sizeof prk, info, info_len + 1, t);
  if (rc == 0) memcpy(out, t, out_len);
  wipe(prk, sizeof prk);
  wipe(t, sizeof t);
  return rc;
}

/* info(label) = [label, kid, epoch, alg, cloud_key_id, ephemeral_key] (5.1). */
static size_t epoch_info(const armored_ctx *ctx, const char *label, uint32_t epoch, uint8_t alg,
                         const uint8_t eph[65], uint8_t *p) {
  size_t n = 0;
  p[n++] = 0x86;
  n += cbor_tstr(p + n, label);
  n += cbor_bstr(p + n, ctx->kid, ctx->kid_len);
  n += cbor_head(p + n, 0, epoch);
  n += cbor_head(p + n, 0, alg);
  n += cbor_bstr(p + n, ctx->cloud_key_id, ctx->cloud_key_id_len);
  n += cbor_bstr(p + n, eph, 65);
  return n;
}

typedef struct epoch_keys {
  uint8_t device_key[32], cloud_key[32];
  uint8_t nonce_base[2][13];
} epoch_keys;

/* OSCORE derivation (5.2): info = [id, kid, alg, type, L]. */
static int oscore_hkdf(const armored_ctx *ctx, const uint8_t secret[32], const uint8_t salt[8], int id, uint8_t alg,
                       const char *type, uint8_t len, uint8_t *out) {
  uint8_t info[40];
  size_t n = 0;
  const uint8_t id_byte = (uint8_t)id;
  info[n++] = 0x85;
  n += cbor_bstr(info + n, &id_byte, id < 0 ? 0 : 1);
  n += cbor_bstr(info + n, ctx->kid, ctx->kid_len);
  n += cbor_head(info + n, 0, alg);
  n += cbor_tstr(info + n, type);
  n += cbor_head(info + n, 0, len);
  return hkdf32(ctx, salt, 8, secret, 32, info, n, out, len);
}

static int derive_keys(const armored_ctx *ctx, const uint8_t secret[32], const uint8_t salt[8], uint8_t alg,
                       epoch_keys *k) {
  uint8_t key_len = 0, nonce_len = 0, tag_len = 0, iv[13];
  if (!aead_params(alg, &key_len, &nonce_len, &tag_len)) return -1;
  memset(k, 0, sizeof *k);
  int rc = oscore_hkdf(ctx, secret, salt, DEVICE_SENDER_ID, alg, "Key", key_len, k->device_key);
  if (rc == 0) rc = oscore_hkdf(ctx, secret, salt, CLOUD_SENDER_ID, alg, "Key", key_len, k->cloud_key);
  if (rc == 0) rc = oscore_hkdf(ctx, secret, salt, -1, alg, "IV", nonce_len, iv);
  if (rc != 0) return rc;
  /* Section 6: nonce = (1 || ID left-padded || 5-byte PIV) XOR common_iv; for
   * PIV 0 the sender ID byte sits at nonce_len - 6. */
  for (int dir = 0; dir < 2; ++dir) {
    uint8_t *b = k->nonce_base[dir];
    b[0] = 1;
    b[nonce_len - 6] = dir == 0 ? DEVICE_SENDER_ID : CLOUD_SENDER_ID;
    for (size_t i = 0; i < nonce_len; ++i) b[i] ^= iv[i];
  }
  wipe(iv, sizeof iv);
  return 0;
}

static void install_keys(armored_ctx *ctx, uint8_t alg, const epoch_keys *k) {
  ctx->epoch_alg = alg;
  (void)aead_params(alg, &ctx->key_len, &ctx->nonce_len, &ctx->tag_len);
  memcpy(ctx->device_key, k->device_key, sizeof ctx->device_key);
  memcpy(ctx->cloud_key, k->cloud_key, sizeof ctx->cloud_key);
  memcpy(ctx->nonce_base, k->nonce_base, sizeof ctx->nonce_base);
  ctx->has_epoch = 1;
}

static void make_nonce(const armored_ctx *ctx, int dir, uint64_t seq, uint8_t out[13]) {
  const size_t n = ctx->nonce_len;
  memcpy(out, ctx->nonce_base[dir], n);
  for (size_t i = 0; i < 5; ++i) out[n - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* AAD = ["Encrypt0", h'', bstr .cbor [1, [alg], kid, piv, epoch, type]] (7.4). */
static size_t make_aad(const armored_ctx *ctx, const uint8_t *piv, size_t piv_size, int type, uint8_t out[48]) {
  static const uint8_t prefix[] = {0x83, 0x68, 'E', 'n', 'c', 'r', 'y', 'p', 't', '0', 0x40};
  uint8_t ext[32];
  size_t e = 0;
  ext[e++] = 0x86;
  ext[e++] = 0x01;
  ext[e++] = 0x81;
  e += cbor_head(ext + e, 0, ctx->epoch_alg);
  e += cbor_bstr(ext + e, ctx->kid, ctx->kid_len);
  e += cbor_bstr(ext + e, piv, piv_size);
  e += cbor_head(ext + e, 0, ctx->epoch);
  ext[e++] = (uint8_t)type;
  memcpy(out, prefix, sizeof prefix);
  size_t n = sizeof prefix;
  n += cbor_bstr(out + n, ext, e);
  return n;
}

/* ---- persistent state (section 10: the same facts, fixed layout) ----
 *  0 "AD"  2 version  3 flags (1 has epoch, 2 window used)  4 epoch u32
 *  8 alg  9 master_secret[32]  41 master_salt[8]  49 started u64
 * 57 reserved u64  65 window highest u64  73 window bits u64  81 ephemeral public key[65] */

static void state_write(const armored_ctx *ctx, uint32_t epoch, uint8_t alg, const uint8_t *secret,
                        const uint8_t *salt, int64_t started, uint64_t reserved, uint64_t highest, uint64_t bits,
                        int window_any, const uint8_t *eph, uint8_t out[ARMORED_STATE_SIZE]) {
  memset(out, 0, ARMORED_STATE_SIZE);
  out[0] = 'A';
  out[1] = 'D';
  out[2] = STATE_VERSION;
  out[3] = (uint8_t)((secret ? 1 : 0) | (window_any ? 2 : 0));
  put_be(out + 4, epoch, 4);
  out[8] = alg;
  if (secret) {
    memcpy(out + 9, secret, 32);
    memcpy(out + 41, salt, 8);
    memcpy(out + 81, eph, 65);
  }
  put_be(out + 49, (uint64_t)(started < 0 ? 0 : started), 8);
  put_be(out + 57, reserved, 8);
  put_be(out + 65, highest, 8);
  put_be(out + 73, bits, 8);
  (void)ctx;
}

static armored_status store_state(const armored_ctx *ctx, uint8_t state[ARMORED_STATE_SIZE]) {
  const int rc = ctx->platform->store(ctx->platform->user, state, ARMORED_STATE_SIZE);
  wipe(state, ARMORED_STATE_SIZE);
  return rc == 0 ? ARMORED_OK : ARMORED_E_PERSIST_FAILED;
}

static armored_status store_current(const armored_ctx *ctx, uint64_t reserved, uint64_t highest, uint64_t bits,
                                    int window_any) {
  uint8_t state[ARMORED_STATE_SIZE];
  state_write(ctx, ctx->epoch, ctx->epoch_alg, ctx->has_epoch ? ctx->master_secret : NULL, ctx->master_salt,
              ctx->epoch_started, reserved, highest, bits, window_any, ctx->ephemeral_public, state);
  return store_state(ctx, state);
}

static armored_status state_read(armored_ctx *ctx, const uint8_t *s, size_t len) {
  if (len != ARMORED_STATE_SIZE || s[0] != 'A' || s[1] != 'D' || s[2] != STATE_VERSION || (s[3] & ~3u) != 0) {
    return ARMORED_E_BAD_CONFIG;
  }
  const uint64_t reserved = get_be(s + 57, 8);
  if (reserved > ARMORED_MAX_SEQ + 1) return ARMORED_E_BAD_CONFIG;
  ctx->epoch = (uint32_t)get_be(s + 4, 4);
  if (s[3] & 1) {
    uint8_t kl = 0, nl = 0, tl = 0;
    epoch_keys k;
    if (!aead_params(s[8], &kl, &nl, &tl) || ctx->epoch == 0) return ARMORED_E_BAD_CONFIG;
    memcpy(ctx->master_secret, s + 9, 32);
    memcpy(ctx->master_salt, s + 41, 8);
    memcpy(ctx->ephemeral_public, s + 81, 65);
    if (derive_keys(ctx, ctx->master_secret, ctx->master_salt, s[8], &k) != 0) return ARMORED_E_CRYPTO;
    install_keys(ctx, s[8], &k);
    wipe(&k, sizeof k);
  }
  ctx->epoch_started = (int64_t)get_be(s + 49, 8);
  /* Anything below the reservation may have been used before the reset. */
  ctx->next_seq = reserved;
  ctx->reserved_until = reserved;
  ctx->window_any = (s[3] & 2) ? 1 : 0;
  ctx->window_highest = get_be(s + 65, 8);
  ctx->window_bits = get_be(s + 73, 8);
  return ARMORED_OK;
}

/* ---- public API ---- */

armored_status armored_init(armored_ctx *ctx, const armored_config *cfg, const armored_crypto *crypto,
                            const armored_platform *platform, const uint8_t *state, size_t state_len) {
  uint8_t kl = 0, nl = 0, tl = 0;
  memset(ctx, 0, sizeof *ctx);
  if (!cfg || !crypto || !crypto->ops || !platform || !platform->now || !platform->store) return ARMORED_E_BAD_CONFIG;
  if (!cfg->kid || cfg->kid_len < 1 || cfg->kid_len > ARMORED_KID_MAX || !cfg->cloud_key_id ||
      cfg->cloud_key_id_len < 1 || cfg->cloud_key_id_len > ARMORED_CLOUD_KEY_ID_MAX || !cfg->cloud_public_key ||
      cfg->cloud_public_key[0] != 0x04 || !aead_params((uint8_t)cfg->alg, &kl, &nl, &tl)) {
    return ARMORED_E_BAD_CONFIG;
  }
  ctx->crypto = *crypto;
  ctx->platform = platform;
  memcpy(ctx->kid, cfg->kid, cfg->kid_len);
  ctx->kid_len = (uint8_t)cfg->kid_len;
  memcpy(ctx->cloud_key_id, cfg->cloud_key_id, cfg->cloud_key_id_len);
  ctx->cloud_key_id_len = (uint8_t)cfg->cloud_key_id_len;
  memcpy(ctx->cloud_public, cfg->cloud_public_key, ARMORED_P256_POINT_SIZE);
  ctx->alg = (uint8_t)cfg->alg;
  ctx->epoch_alg = ctx->alg;
  ctx->rotation_interval_s = cfg->rotation_interval_s ? cfg->rotation_interval_s : 86400u;
  ctx->rotation_messages = cfg->rotation_messages ? cfg->rotation_messages : (1u << 20);
  ctx->reserve_ahead = cfg->reserve_ahead ? cfg->reserve_ahead : 256u;
  ctx->max_plaintext = cfg->max_plaintext ? cfg->max_plaintext : 1024u;
  if (state_len > 0) {
    const armored_status st = state ? state_read(ctx, state, state_len) : ARMORED_E_BAD_CONFIG;
    if (st != ARMORED_OK) {
      armored_wipe(ctx);
      return st;
    }
  }
  return ARMORED_OK;
}

void armored_wipe(armored_ctx *ctx) { wipe(ctx, sizeof *ctx); }

/* Writes the announcement of (epoch, alg, eph) to out (section 4). */
static armored_status build_announcement(const armored_ctx *ctx, uint32_t epoch, uint8_t alg, const uint8_t eph[65],
                                         uint8_t *out, size_t cap, size_t *out_len) {
  /* to_be_signed = ["Signature1", h'a10126', h'', payload]; the payload
   * [kid, epoch, alg, cloud_key_id, ephemeral_key] is built in place at its end. */
  static const uint8_t tbs_prefix[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1',
                                       0x43, 0xa1, 0x01, 0x26, 0x40};
  uint8_t tbs[sizeof tbs_prefix + 2 + 118];
  uint8_t payload[118];
  uint8_t sig[64];
  size_t p = 0;
  payload[p++] = 0x85;
  p += cbor_bstr(payload + p, ctx->kid, ctx->kid_len);
  p += cbor_head(payload + p, 0, epoch);
  p += cbor_head(payload + p, 0, alg);
  p += cbor_bstr(payload + p, ctx->cloud_key_id, ctx->cloud_key_id_len);
  p += cbor_bstr(payload + p, eph, 65);
  memcpy(tbs, tbs_prefix, sizeof tbs_prefix);
  const size_t tbs_len = sizeof tbs_prefix + cbor_bstr(tbs + sizeof tbs_prefix, payload, p);
  const size_t total = 2 + ctx->kid_len + 1 + 4 + 1 + (p < 24 ? 1 : 2) + p + 2 + 64;
  if (cap < total) return ARMORED_E_BUFFER_TOO_SMALL;
  if (ctx->crypto.ops->sign(ctx->crypto.impl, tbs, tbs_len, sig) != 0) return ARMORED_E_CRYPTO;
  size_t n = 0;
  out[n++] = (uint8_t)((TYPE_ANNOUNCEMENT << 6) | ((ctx->kid_len - 1) << 3));
  out[n++] = (uint8_t)epoch;
  memcpy(out + n, ctx->kid, ctx->kid_len);
  n += ctx->kid_len;
  /* COSE_Sign1 = [h'a10126', {}, payload, signature] */
  out[n++] = 0x84;
  out[n++] = 0x43;
  out[n++] = 0xa1;
  out[n++] = 0x01;
  out[n++] = 0x26;
  out[n++] = 0xa0;
  n += cbor_bstr(out + n, payload, p);
  n += cbor_bstr(out + n, sig, sizeof sig);
  *out_len = n;
  return ARMORED_OK;
}

armored_status armored_start_epoch(armored_ctx *ctx, uint8_t *out, size_t out_cap, size_t *out_len) {
  if (ctx->epoch == 0xffffffffu) return ARMORED_E_ROTATION_REQUIRED;
  if (out_cap < ARMORED_ANNOUNCEMENT_MAX) return ARMORED_E_BUFFER_TOO_SMALL;
  const uint32_t epoch = ctx->epoch + 1;
  const uint8_t alg = ctx->alg;
  uint8_t eph[65], shared[32], secret[32], salt[8];
  uint8_t info[136 + 1];
  epoch_keys k;
  armored_status st = ARMORED_OK;
  /* The ephemeral private key never leaves the backend; the shared secret
   * lives only until the two secrets are derived (5.1). */
  if (ctx->crypto.ops->ephemeral_ecdh(ctx->crypto.impl, ctx->cloud_public, eph, shared) != 0) {
    st = ARMORED_E_BAD_CONFIG;
  } else {
    size_t n = epoch_info(ctx, "E3 Master Secret", epoch, alg, eph, info);
    int rc = hkdf32(ctx, NULL, 0, shared, 32, info, n, secret, 32);
    n = epoch_info(ctx, "E3 Master Salt", epoch, alg, eph, info);
    if (rc == 0) rc = hkdf32(ctx, NULL, 0, shared, 32, info, n, salt, 8);
    if (rc == 0) rc = derive_keys(ctx, secret, salt, alg, &k);
    if (rc != 0) st = ARMORED_E_CRYPTO;
  }
  wipe(shared, sizeof shared);
  if (st == ARMORED_OK) st = build_announcement(ctx, epoch, alg, eph, out, out_cap, out_len);
  if (st == ARMORED_OK) {
    /* 7.2: the new state is durable before the announcement is released. */
    const uint64_t reserved = ctx->reserve_ahead < ctx->rotation_messages ? ctx->reserve_ahead : ctx->rotation_messages;
    const int64_t now = ctx->platform->now(ctx->platform->user);
    uint8_t state[ARMORED_STATE_SIZE];
    state_write(ctx, epoch, alg, secret, salt, now, reserved, 0, 0, 0, eph, state);
    st = store_state(ctx, state);
    if (st == ARMORED_OK) {
      wipe(ctx->device_key, sizeof ctx->device_key);
      wipe(ctx->cloud_key, sizeof ctx->cloud_key);
      install_keys(ctx, alg, &k);
      memcpy(ctx->master_secret, secret, 32);
      memcpy(ctx->master_salt, salt, 8);
      memcpy(ctx->ephemeral_public, eph, 65);
      ctx->epoch = epoch;
      ctx->epoch_started = now;
      ctx->next_seq = 0;
      ctx->reserved_until = reserved;
      ctx->window_any = 0;
      ctx->window_highest = 0;
      ctx->window_bits = 0;
    } else {
      wipe(out, *out_len);
    }
  }
  wipe(secret, sizeof secret);
  wipe(salt, sizeof salt);
  wipe(&k, sizeof k);
  return st;
}

armored_status armored_announcement(armored_ctx *ctx, uint8_t *out, size_t out_cap, size_t *out_len) {
  if (!ctx->has_epoch) return ARMORED_E_ROTATION_REQUIRED;
  return build_announcement(ctx, ctx->epoch, ctx->epoch_alg, ctx->ephemeral_public, out, out_cap, out_len);
}

int armored_rotation_due(const armored_ctx *ctx) {
  if (!ctx->has_epoch) return 1;
  const int64_t age = ctx->platform->now(ctx->platform->user) - ctx->epoch_started;
  return age >= (int64_t)ctx->rotation_interval_s || ctx->next_seq >= ctx->rotation_messages;
}

size_t armored_sealed_size(const armored_ctx *ctx, size_t pt_len) {
  uint8_t kl = 0, nl = 0, tl = 0;
  (void)aead_params(ctx->has_epoch ? ctx->epoch_alg : ctx->alg, &kl, &nl, &tl);
  return 2 + ctx->kid_len + piv_len(ctx->next_seq) + pt_len + tl;
}

armored_status armored_seal(armored_ctx *ctx, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap,
                            size_t *out_len) {
  if (armored_rotation_due(ctx)) return ARMORED_E_ROTATION_REQUIRED;
  if (pt_len > ctx->max_plaintext) return ARMORED_E_OVERSIZED; /* the cloud would refuse it (8.1 rule 8) */
  const uint64_t seq = ctx->next_seq;
  const size_t pl = piv_len(seq);
  const size_t hdr = 2 + ctx->kid_len + pl;
  if (out_cap < hdr + pt_len + ctx->tag_len) return ARMORED_E_BUFFER_TOO_SMALL;
  if (seq >= ctx->reserved_until) {
    /* 7.1 (RFC 8613 B.1.1): store the new bound before using a number under it. */
    uint64_t reserved = seq + ctx->reserve_ahead;
    if (reserved > ctx->rotation_messages) reserved = ctx->rotation_messages;
    const armored_status st = store_current(ctx, reserved, ctx->window_highest, ctx->window_bits, ctx->window_any);
    if (st != ARMORED_OK) return st;
    ctx->reserved_until = reserved;
  }
  uint8_t aad[48], nonce[13];
  /* 3.1: flags, epoch id, kid, minimal big-endian partial IV. */
  out[0] = (uint8_t)((TYPE_UPLINK << 6) | ((ctx->kid_len - 1) << 3) | pl);
  out[1] = (uint8_t)ctx->epoch;
  memcpy(out + 2, ctx->kid, ctx->kid_len);
  put_be(out + 2 + ctx->kid_len, seq, pl);
  const size_t aad_len = make_aad(ctx, out + 2 + ctx->kid_len, pl, TYPE_UPLINK, aad);
  make_nonce(ctx, 0, seq, nonce);
  if (ctx->crypto.ops->aead_encrypt(ctx->crypto.impl, (armored_aead)ctx->epoch_alg, ctx->device_key, nonce,
                                    ctx->nonce_len, aad, aad_len, pt, pt_len, out + hdr) != 0) {
    return ARMORED_E_CRYPTO;
  }
  ctx->next_seq = seq + 1;
  *out_len = hdr + pt_len + ctx->tag_len;
  return ARMORED_OK;
}

armored_status armored_open_command(armored_ctx *ctx, const uint8_t *env, size_t env_len, uint8_t *out,
                                    size_t out_cap, size_t *out_len, uint64_t *seq_out) {
  /* 8.1 in table order; the first failure is the answer. */
  if (env_len > 15u + ctx->max_plaintext + 16u) return ARMORED_E_OVERSIZED;                  /* 1 */
  if (env_len < 2) return ARMORED_E_MALFORMED;                                               /* 2 */
  const unsigned type = env[0] >> 6;
  const size_t kid_len = ((env[0] >> 3) & 7u) + 1;
  const size_t pl = env[0] & 7u;
  if (type == 3 || pl == 0 || pl > 5 || env_len < 2 + kid_len + pl) return ARMORED_E_MALFORMED;
  const uint8_t *piv = env + 2 + kid_len;
  if (pl > 1 && piv[0] == 0) return ARMORED_E_MALFORMED;
  const size_t hdr = 2 + kid_len + pl;
  if (hdr == env_len) return ARMORED_E_MALFORMED;
  if (type != TYPE_DOWNLINK) return ARMORED_E_MALFORMED;                                    /* 3 */
  if (kid_len != ctx->kid_len || memcmp(env + 2, ctx->kid, kid_len) != 0) return ARMORED_E_UNKNOWN_KEY_ID; /* 4 */
  if (!ctx->has_epoch || env[1] != (uint8_t)ctx->epoch) return ARMORED_E_UNKNOWN_EPOCH;      /* 5 */
  const size_t body = env_len - hdr;
  if (body < ctx->tag_len) return ARMORED_E_MALFORMED;                                       /* 7 */
  const size_t pt_len = body - ctx->tag_len;
  if (pt_len > ctx->max_plaintext) return ARMORED_E_OVERSIZED;                              /* 8 */
  if (out_cap < pt_len) return ARMORED_E_BUFFER_TOO_SMALL;
  const uint64_t seq = get_be(piv, pl);
  if (ctx->window_any && seq <= ctx->window_highest) {
    const uint64_t offset = ctx->window_highest - seq;
    if (offset < WINDOW_SIZE && (ctx->window_bits >> offset) & 1u) return ARMORED_E_REPLAYED; /* 9 */
    if (offset >= WINDOW_SIZE) return ARMORED_E_TOO_OLD;                                     /* 10 */
  }
  uint8_t aad[48], nonce[13];
  const size_t aad_len = make_aad(ctx, piv, pl, TYPE_DOWNLINK, aad);
  make_nonce(ctx, 1, seq, nonce);
  if (ctx->crypto.ops->aead_decrypt(ctx->crypto.impl, (armored_aead)ctx->epoch_alg, ctx->cloud_key, nonce,
                                    ctx->nonce_len, aad, aad_len, env + hdr, body, out) != 0) {          /* 11 */
    wipe(out, pt_len);
    return ARMORED_E_AUTHENTICATION_FAILED;
  }
  /* Mark, and make the mark durable before anyone acts on the command (8.3). */
  uint64_t highest = ctx->window_highest, bits = ctx->window_bits;
  if (!ctx->window_any) {
    highest = seq;
    bits = 1;
  } else if (seq > highest) {
    const uint64_t shift = seq - highest;
    bits = shift >= WINDOW_SIZE ? 0 : bits << shift;
    bits |= 1;
    highest = seq;
  } else {
    bits |= UINT64_C(1) << (highest - seq);
  }
  const armored_status st = store_current(ctx, ctx->reserved_until, highest, bits, 1);
  if (st != ARMORED_OK) {
    wipe(out, pt_len);
    return st;
  }
  ctx->window_any = 1;
  ctx->window_highest = highest;
  ctx->window_bits = bits;
  *out_len = pt_len;
  if (seq_out) *seq_out = seq;
  return ARMORED_OK;
}
