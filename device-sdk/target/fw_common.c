#include "fw_common.h"

#include <string.h>

#include "board.h"
#include "mbedtls/memory_buffer_alloc.h"

static unsigned char arena[8192];
static uint32_t rng_state;

/* The emulated board has no TRNG: a xorshift seeded from the host clock
 * stands in. Test firmware only; a product wires its TRNG here. */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context, uint8_t *output,
                                             size_t output_size, size_t *output_length) {
  (void)context;
  if (rng_state == 0) rng_state = (uint32_t)board_time() | 1u;
  for (size_t i = 0; i < output_size; ++i) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    output[i] = (uint8_t)rng_state;
  }
  *output_length = output_size;
  return PSA_SUCCESS;
}

int fw_import_identity(const uint8_t scalar[32], psa_key_id_t *id) {
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
  return psa_import_key(&attr, scalar, 32, id) == PSA_SUCCESS ? 0 : -1;
}

int fw_crypto_init(armored_psa_backend *b, armored_crypto *out) {
  mbedtls_memory_buffer_alloc_init(arena, sizeof arena); /* zeroes the arena */
  memset(b, 0, sizeof *b);
  return armored_crypto_psa_init(b, out);
}

size_t fw_arena_peak(void) {
  /* The arena starts zeroed and allocates first-fit from the front, and a
   * free block's header follows every allocation: the last non-zero byte
   * bounds what was ever used. */
  size_t top = sizeof arena;
  while (top > 0 && arena[top - 1] == 0) --top;
  return top;
}
