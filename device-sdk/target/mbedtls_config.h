/* Mbed TLS 2.28 for the Cortex-M4 firmware: only what the PSA backend of
 * the device SDK calls (ECDSA and ECDH on P-256, SHA-256, HMAC, AES-GCM,
 * AES-CCM, ChaCha20-Poly1305), tuned for flash and RAM, no OS, no file
 * system, randomness from the board (mbedtls_psa_external_get_random). */
#ifndef ARMORED_MBEDTLS_CONFIG_H
#define ARMORED_MBEDTLS_CONFIG_H

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C /* PSA key slots come from a static arena */
/* No C library heap, exit or stdio: the firmware provides these three. */
#define MBEDTLS_PLATFORM_STD_CALLOC armored_mbedtls_no_calloc
#define MBEDTLS_PLATFORM_STD_FREE armored_mbedtls_no_free
#define MBEDTLS_PLATFORM_EXIT_MACRO armored_mbedtls_fatal
#include <stddef.h>
void *armored_mbedtls_no_calloc(size_t n, size_t size);
void armored_mbedtls_no_free(void *p);
void armored_mbedtls_fatal(int code);

#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_PSA_KEY_SLOT_COUNT 8

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG      /* PSA passes its RNG for blinding */
#define MBEDTLS_ECP_WINDOW_SIZE 2        /* small tables: RAM over speed */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0  /* no precomputed comb in RAM */
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_MPI_MAX_SIZE 32
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C

#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* gcm-only/mbedtls_config.h: the same with AES-GCM as the only AEAD, for
 * the size of a firmware whose fleet uses one AEAD (figures.sh). */
#ifdef ARMORED_MBEDTLS_GCM_ONLY
#undef MBEDTLS_CCM_C
#undef MBEDTLS_CHACHA20_C
#undef MBEDTLS_POLY1305_C
#undef MBEDTLS_CHACHAPOLY_C
#endif

#include "mbedtls/check_config.h"
#endif
