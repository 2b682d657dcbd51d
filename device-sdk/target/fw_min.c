/* The smallest firmware that does E3's job: starts an epoch, seals readings
 * and sends them over a UART (the CMSDK UART0 of mps2-an386 stands in for
 * the radio). Built only for its size figures (scripts/figures.sh); the
 * provisioning record would sit in its own flash page. */

#include <string.h>

#include "armored_crypto_psa.h"
#include "armored_device.h"
#include "mbedtls/memory_buffer_alloc.h"

#define UART0_DATA (*(volatile uint32_t *)0x40004000)
#define UART0_STATE (*(volatile uint32_t *)0x40004004)
#define UART0_CTRL (*(volatile uint32_t *)0x40004008)

extern uint32_t __bss_start, __bss_end, __stack_top;
void reset_handler(void);
int main(void);
__attribute__((section(".vectors"), used)) static void (*const vectors[2])(void) = {
    (void (*)(void))(&__stack_top), reset_handler};
void reset_handler(void) {
  for (uint32_t *p = &__bss_start; p < &__bss_end; ++p) *p = 0;
  main();
  for (;;) {
  }
}

/* Provisioning record (layout in armored_device.h); bytes from armored_device_provision. */
__attribute__((section(".rodata.provisioning"))) static const uint8_t kProvisioning[ARMORED_PROVISIONING_MAX] = {
    'A', 'P', 1, 1, 3, 0x4a, 0x7f, 0x01, 8};

static uint32_t seed = 0x12345678u; /* stands in for the board's TRNG */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *c, uint8_t *out, size_t n,
                                             size_t *olen) {
  (void)c;
  for (size_t i = 0; i < n; ++i) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    out[i] = (uint8_t)seed;
  }
  *olen = n;
  return PSA_SUCCESS;
}

static uint8_t state_page[ARMORED_STATE_SIZE];
static int64_t now_s;
static int64_t board_now(void *u) { (void)u; return now_s; }
static int board_store(void *u, const uint8_t *s, size_t len) { (void)u; memcpy(state_page, s, len); return 0; }
static int board_send(void *u, const uint8_t *d, size_t len) {
  (void)u;
  UART0_CTRL = 1;
  for (size_t i = 0; i < len; ++i) {
    while (UART0_STATE & 1u) {
    }
    UART0_DATA = d[i];
  }
  return 0;
}
static const armored_platform kBoard = {0, board_now, board_store, board_send};

static unsigned char arena[2048];
static armored_psa_backend backend;
static armored_ctx ctx;

int main(void) {
  armored_crypto crypto;
  armored_provisioning prov;
  uint8_t msg[ARMORED_ANNOUNCEMENT_MAX];
  size_t len;
  mbedtls_memory_buffer_alloc_init(arena, sizeof arena);
  if (armored_crypto_psa_init(&backend, &crypto) != 0) return 1;
  if (armored_provisioning_parse(kProvisioning, sizeof kProvisioning, &prov) != ARMORED_OK) return 1;
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
  if (psa_import_key(&attr, prov.identity_scalar, 32, &backend.identity) != PSA_SUCCESS) return 1;
  armored_config cfg = {prov.kid, prov.kid_len, prov.cloud_key_id, prov.cloud_key_id_len, prov.cloud_public_key,
                        ARMORED_AES_128_GCM, 0, 0, 0, 0};
  if (armored_init(&ctx, &cfg, &crypto, &kBoard, state_page, 0) != ARMORED_OK) return 1;
  if (armored_start_epoch(&ctx, msg, sizeof msg, &len) != ARMORED_OK) return 1;
  board_send(0, msg, len);
  for (uint32_t t = 0;; t += 30) {
    uint8_t pt[ARMORED_READING_SIZE] = {0};
    now_s = t;
    if (armored_rotation_due(&ctx) && armored_start_epoch(&ctx, msg, sizeof msg, &len) == ARMORED_OK) {
      board_send(0, msg, len);
    }
    pt[3] = (uint8_t)t;
    if (armored_seal(&ctx, pt, sizeof pt, msg, sizeof msg, &len) == ARMORED_OK) board_send(0, msg, len);
  }
}
