/* The device SDK on an emulated Cortex-M4 (QEMU mps2-an386), driven by a
 * host test through its semihosting command line:
 *   kat            section 13 example byte for byte; then opens the commands
 *                  in cmds.bin (sealed by the reference cloud for that epoch)
 *                  and seals a reply to the first
 *   device N       provisioning record prov.bin -> announcement and N readings,
 *                  printed as "msg <hex>" for the host to send to a gateway
 *   bench          instructions and stack per announcement, seal, command open
 * Output lines are "key value"; exit code 0 on success. */

#include <string.h>

#include "../examples/sample_reading.h"
#include "armored_device.h"
#include "board.h"
#include "fw_common.h"

static const char kEnvelopeHex[] =
    "11014a7f0100c7f0fefe4dd4359053e6adc2a720d20fb87116a492c97378066ef90e8dc74be873618050eba09bec252323d910c7"
    "771616d1e1579c402a5296e6e13552f4f13af410af65";
/* The announcement up to its (randomised) signature. */
static const char kAnnouncementHex[] =
    "90014a7f018443a10126a0585285434a7f01010147636c6f75642d3158410451a7580833898ea1b183cbd7350a4099078c6ef1c1e1"
    "8e970cd7683035f25e7d0110522712b0b5a7cff081685486984a94e6831edac46e7360fa9d834a7a81a15840";
static const char kCloudPublicHex[] =
    "04d65a93977caa3d1b081852ff57a79e465f1660577304baead505dd3a48589cf350185e895372df6221ea3a137557e473fddb6755f0"
    "5bd507c3c533fce9c91285";
static const uint8_t kKid[] = {0x4a, 0x7f, 0x01};
static const uint8_t kCloudKeyId[] = {'c', 'l', 'o', 'u', 'd', '-', '1'};

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  for (; s[0] && s[1]; s += 2) {
    uint8_t v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = s[k];
      v = (uint8_t)(v << 4 | (c <= '9' ? c - '0' : c - 'a' + 10));
    }
    out[n++] = v;
  }
  return n;
}

/* ---- the board's services for the library ---- */
static uint8_t flash_page[ARMORED_STATE_SIZE];
static uint32_t stores;
static int64_t fixed_now;

static int64_t fw_now(void *u) { (void)u; return fixed_now ? fixed_now : board_time(); }
static int fw_store(void *u, const uint8_t *s, size_t len) {
  (void)u;
  memcpy(flash_page, s, len);
  ++stores;
  return 0;
}
static int fw_send(void *u, const uint8_t *d, size_t len) {
  (void)u;
  board_put_hex("msg", d, len);
  return 0;
}
static const armored_platform kPlatform = {0, fw_now, fw_store, fw_send};

static int fill33(void *u, uint8_t *out, size_t len) {
  (void)u;
  memset(out, 0x33, len);
  return 0;
}

static armored_psa_backend backend;
static armored_crypto crypto;
static armored_ctx ctx;
static uint8_t buf[1100];

static int fail(const char *what) {
  board_puts("FAIL ");
  board_puts(what);
  board_puts("\n");
  return 1;
}

/* The section 13 device: identity 0x11.., cloud key of 0x22.., kid 4a7f01. */
static int example_device(armored_aead alg, int deterministic) {
  static uint8_t cloud_pub[65];
  uint8_t scalar[32];
  unhex(kCloudPublicHex, cloud_pub);
  memset(scalar, 0x11, sizeof scalar);
  if (backend.identity == 0 && fw_import_identity(scalar, &backend.identity) != 0) return fail("identity import");
  backend.random = deterministic ? fill33 : 0;
  armored_config cfg = {kKid, sizeof kKid, kCloudKeyId, sizeof kCloudKeyId, cloud_pub, alg, 0, 0, 0, 0};
  if (armored_init(&ctx, &cfg, &crypto, &kPlatform, 0, 0) != ARMORED_OK) return fail("init");
  return 0;
}

static int run_kat(void) {
  uint8_t expect[200], env[ARMORED_SEALED_MAX(52)], pt[52];
  size_t len = 0, ann_len = 0;
  fixed_now = 1700000000;
  if (example_device(ARMORED_AES_128_GCM, 1)) return 1;
  if (armored_start_epoch(&ctx, buf, sizeof buf, &ann_len) != ARMORED_OK) return fail("start_epoch");
  size_t n = unhex(kAnnouncementHex, expect);
  if (ann_len != 161 || memcmp(buf, expect, n) != 0) return fail("announcement differs from section 13");
  for (size_t i = 0; i < sizeof pt; ++i) pt[i] = (uint8_t)i;
  if (armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len) != ARMORED_OK) return fail("seal");
  n = unhex(kEnvelopeHex, expect);
  if (len != n || memcmp(env, expect, n) != 0) return fail("envelope differs from section 13");
  board_put_hex("announcement", buf, ann_len);
  board_puts("kat ok\n");

  /* Commands sealed by the reference cloud: u16 length || envelope, repeated. */
  static uint8_t cmds[2048];
  const long total = board_read_file("cmds.bin", cmds, sizeof cmds);
  if (total <= 0) return 0;
  uint32_t opened = 0;
  static uint8_t first_command[128];
  size_t first_len = 0;
  for (long pos = 0; pos + 2 <= total;) {
    const size_t elen = (size_t)(cmds[pos] << 8 | cmds[pos + 1]);
    uint64_t seq = 0;
    const armored_status st = armored_open_command(&ctx, cmds + pos + 2, elen, buf, sizeof buf, &len, &seq);
    if (st != ARMORED_OK) {
      board_puts("command refused ");
      board_puts(armored_status_name(st));
      board_puts("\n");
    } else {
      if (opened == 0) {
        board_put_hex("command", buf, len);
        memcpy(first_command, buf, len < sizeof first_command ? len : sizeof first_command);
        first_len = len < sizeof first_command ? len : sizeof first_command;
      }
      ++opened;
    }
    pos += 2 + (long)elen;
  }
  board_put_u32("commands_opened", opened);
  /* The first command again: the stored window refuses it. */
  if (armored_open_command(&ctx, cmds + 2, (size_t)(cmds[0] << 8 | cmds[1]), buf, sizeof buf, &len, 0) !=
      ARMORED_E_REPLAYED) {
    return fail("replay accepted");
  }
  board_puts("replay refused\n");
  /* Answer the first command: accepted, with its id. */
  uint64_t id = 0;
  uint8_t reply[32];
  size_t reply_len = 0;
  (void)armored_command_id(first_command, first_len, &id);
  if (id == 0 || armored_reply_encode(id, NULL, reply, sizeof reply, &reply_len) != ARMORED_OK) return fail("reply");
  if (armored_seal(&ctx, reply, reply_len, env, sizeof env, &len) != ARMORED_OK) return fail("seal reply");
  board_put_hex("reply", env, len);
  return 0;
}

static int run_device(unsigned count) {
  uint8_t rec[ARMORED_PROVISIONING_MAX + 1];
  armored_provisioning prov;
  const long n = board_read_file("prov.bin", rec, sizeof rec);
  if (n <= 0 || armored_provisioning_parse(rec, (size_t)n, &prov) != ARMORED_OK || !prov.has_identity_scalar) {
    return fail("prov.bin");
  }
  if (fw_import_identity(prov.identity_scalar, &backend.identity) != 0) return fail("identity import");
  memset(prov.identity_scalar, 0, sizeof prov.identity_scalar);
  armored_config cfg = {prov.kid, prov.kid_len, prov.cloud_key_id, prov.cloud_key_id_len, prov.cloud_public_key,
                        ARMORED_AES_128_GCM, 0, 0, 0, 0};
  if (armored_init(&ctx, &cfg, &crypto, &kPlatform, 0, 0) != ARMORED_OK) return fail("init");
  size_t len = 0;
  if (armored_start_epoch(&ctx, buf, sizeof buf, &len) != ARMORED_OK) return fail("start_epoch");
  fw_send(0, buf, len);
  for (unsigned i = 0; i < count; ++i) {
    uint8_t pt[ARMORED_READING_SIZE];
    const armored_reading r = armored_sample_reading((uint32_t)board_time(), i);
    armored_reading_encode(&r, pt);
    if (armored_seal(&ctx, pt, sizeof pt, buf, sizeof buf, &len) != ARMORED_OK) return fail("seal");
    fw_send(0, buf, len);
  }
  board_put_u32("stores", stores);
  return 0;
}

/* A backend that does no cryptography, to measure E3's own instructions and
 * stack apart from its crypto. */
static int null_sign(void *i, const uint8_t *m, size_t n, uint8_t sig[64]) {
  (void)i, (void)m, (void)n;
  memset(sig, 1, 64);
  return 0;
}
static int null_ecdh(void *i, const uint8_t peer[65], uint8_t pub[65], uint8_t z[32]) {
  (void)i;
  memcpy(pub, peer, 65);
  memset(z, 2, 32);
  return 0;
}
static int null_hmac(void *i, const uint8_t *k, size_t kl, const uint8_t *m, size_t ml, uint8_t mac[32]) {
  (void)i, (void)k, (void)kl, (void)m, (void)ml;
  memset(mac, 3, 32);
  return 0;
}
static int null_enc(void *i, armored_aead a, const uint8_t *k, const uint8_t *nc, size_t nl, const uint8_t *aad,
                    size_t al, const uint8_t *pt, size_t len, uint8_t *out) {
  (void)i, (void)a, (void)k, (void)nc, (void)nl, (void)aad, (void)al;
  memmove(out, pt, len);
  memset(out + len, 0, a == ARMORED_AES_CCM_16_64_128 ? 8 : 16);
  return 0;
}
static int null_dec(void *i, armored_aead a, const uint8_t *k, const uint8_t *nc, size_t nl, const uint8_t *aad,
                    size_t al, const uint8_t *ct, size_t len, uint8_t *out) {
  (void)i, (void)k, (void)nc, (void)nl, (void)aad, (void)al;
  memmove(out, ct, len - (a == ARMORED_AES_CCM_16_64_128 ? 8u : 16u));
  return 0;
}
static const armored_crypto_ops kNullOps = {null_sign, null_ecdh, null_hmac, null_enc, null_dec};

static uint32_t calib; /* instructions per 1000 ticks */
static uint32_t insn(uint64_t ticks, uint32_t per) { return (uint32_t)(ticks * calib / 1000u / per); }

static int run_bench(void) {
  static const armored_aead algs[] = {ARMORED_AES_128_GCM, ARMORED_AES_256_GCM, ARMORED_AES_CCM_16_64_128,
                                      ARMORED_CHACHA20_POLY1305};
  static const char *names[] = {"A128GCM", "A256GCM", "AES-CCM-16-64-128", "ChaCha20-Poly1305"};
  uint8_t pt[52], env[ARMORED_SEALED_MAX(52)];
  size_t len = 0;
  calib = board_calibrate();
  board_put_u32("calibration_insn_per_1000_ticks", calib);
  board_put_u32("sizeof_armored_ctx", (uint32_t)sizeof(armored_ctx));
  board_put_u32("sizeof_psa_backend", (uint32_t)sizeof(armored_psa_backend));
  memset(pt, 7, sizeof pt);
  for (size_t a = 0; a < 4; ++a) {
    if (example_device(algs[a], 0)) return 1;
    board_paint_stack();
    uint64_t t0 = board_ticks();
    if (armored_start_epoch(&ctx, buf, sizeof buf, &len) != ARMORED_OK) return fail("start_epoch");
    uint64_t t1 = board_ticks();
    const size_t stack_epoch = board_stack_used();
    if (a == 0) {
      board_put_u32("insn_start_epoch", insn(t1 - t0, 1));
      board_put_u32("stack_start_epoch", (uint32_t)stack_epoch);
      board_paint_stack();
      t0 = board_ticks();
      if (armored_announcement(&ctx, buf, sizeof buf, &len) != ARMORED_OK) return fail("announcement");
      t1 = board_ticks();
      board_put_u32("insn_reannounce", insn(t1 - t0, 1));
      board_put_u32("stack_reannounce", (uint32_t)board_stack_used());
    }
    /* The first seal stores the reservation; measure the steady state. */
    if (armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len) != ARMORED_OK) return fail("seal");
    board_paint_stack();
    t0 = board_ticks();
    for (int i = 0; i < 100; ++i) {
      if (armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len) != ARMORED_OK) return fail("seal");
    }
    t1 = board_ticks();
    board_puts(names[a]);
    board_put_u32(" insn_seal", insn(t1 - t0, 100));
    board_puts(names[a]);
    board_put_u32(" stack_seal", (uint32_t)board_stack_used());
  }
  /* Command open on the section 13 epoch, with commands from cmds.bin. */
  static uint8_t cmds[4096];
  const long total = board_read_file("cmds.bin", cmds, sizeof cmds);
  if (total > 0) {
    fixed_now = 1700000000;
    if (example_device(ARMORED_AES_128_GCM, 1) || armored_start_epoch(&ctx, buf, sizeof buf, &len) != ARMORED_OK) {
      return fail("example epoch");
    }
    uint32_t opened = 0;
    board_paint_stack();
    const uint64_t t0 = board_ticks();
    for (long pos = 0; pos + 2 <= total;) {
      const size_t elen = (size_t)(cmds[pos] << 8 | cmds[pos + 1]);
      opened += armored_open_command(&ctx, cmds + pos + 2, elen, buf, sizeof buf, &len, 0) == ARMORED_OK;
      pos += 2 + (long)elen;
    }
    const uint64_t t1 = board_ticks();
    if (opened == 0) return fail("no command opened");
    board_put_u32("insn_open_command", insn(t1 - t0, opened));
    board_put_u32("stack_open_command", (uint32_t)board_stack_used());
  }
  board_put_u32("mbedtls_arena_peak", (uint32_t)fw_arena_peak());

  /* E3 alone: the same calls over the null backend. */
  const armored_crypto real = crypto;
  crypto.ops = &kNullOps;
  if (example_device(ARMORED_AES_128_GCM, 0)) return 1;
  board_paint_stack();
  uint64_t t0 = board_ticks();
  if (armored_start_epoch(&ctx, buf, sizeof buf, &len) != ARMORED_OK) return fail("null start_epoch");
  uint64_t t1 = board_ticks();
  board_put_u32("e3only_insn_start_epoch", insn(t1 - t0, 1));
  board_put_u32("e3only_stack_start_epoch", (uint32_t)board_stack_used());
  if (armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len) != ARMORED_OK) return fail("null seal");
  board_paint_stack();
  t0 = board_ticks();
  for (int i = 0; i < 100; ++i) (void)armored_seal(&ctx, pt, sizeof pt, env, sizeof env, &len);
  t1 = board_ticks();
  board_put_u32("e3only_insn_seal", insn(t1 - t0, 100));
  board_put_u32("e3only_stack_seal", (uint32_t)board_stack_used());
  if (total > 0) {
    uint32_t opened = 0;
    board_paint_stack();
    t0 = board_ticks();
    for (long pos = 0; pos + 2 <= total;) {
      const size_t elen = (size_t)(cmds[pos] << 8 | cmds[pos + 1]);
      opened += armored_open_command(&ctx, cmds + pos + 2, elen, buf, sizeof buf, &len, 0) == ARMORED_OK;
      pos += 2 + (long)elen;
    }
    t1 = board_ticks();
    if (opened) board_put_u32("e3only_insn_open_command", insn(t1 - t0, opened));
    board_put_u32("e3only_stack_open_command", (uint32_t)board_stack_used());
  }
  crypto = real;
  return 0;
}

int main(void) {
  char cmd[64] = {0};
  if (board_get_cmdline(cmd, sizeof cmd) != 0) return fail("no command line");
  if (fw_crypto_init(&backend, &crypto) != 0) return fail("psa_crypto_init");
  /* The command line starts with the program name (QEMU passes -kernel's). */
  const char *arg = strrchr(cmd, ' ');
  arg = arg ? arg + 1 : cmd;
  const char *mode = strstr(cmd, "kat") ? "kat" : strstr(cmd, "device") ? "device" : strstr(cmd, "bench") ? "bench" : "";
  if (strcmp(mode, "kat") == 0) return run_kat();
  if (strcmp(mode, "bench") == 0) return run_bench();
  if (strcmp(mode, "device") == 0) {
    unsigned n = 0;
    for (const char *p = arg; *p >= '0' && *p <= '9'; ++p) n = n * 10 + (unsigned)(*p - '0');
    return run_device(n ? n : 8);
  }
  return fail("mode: kat | device N | bench");
}
