/* The firmware configuration with AES-GCM as its only AEAD. */
#define ARMORED_MBEDTLS_GCM_ONLY
#include "../mbedtls_config.h"
