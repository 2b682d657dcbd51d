#ifndef ARMORED_FW_COMMON_H
#define ARMORED_FW_COMMON_H
/* What the emulated firmwares share: Mbed TLS's arena, the board's random
 * source, and a PSA identity key from a private scalar. */

#include <psa/crypto.h>

#include "armored_crypto_psa.h"
#include "armored_device.h"

/* Imports a P-256 private scalar as the identity key. In a product the key
 * is generated in (or injected into) the key store once and only its id is
 * kept. */
int fw_import_identity(const uint8_t scalar[32], psa_key_id_t *id);
/* Initialises the Mbed TLS arena and PSA; 0 on success. */
int fw_crypto_init(armored_psa_backend *b, armored_crypto *out);
/* Peak bytes of the Mbed TLS arena so far. */
size_t fw_arena_peak(void);

#endif
