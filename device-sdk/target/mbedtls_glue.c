/* What the Mbed TLS configuration (mbedtls_config.h) leaves to the firmware:
 * the arena allocator replaces these at start-up, and a corrupted arena
 * stops the device. */

#include <stddef.h>

void *armored_mbedtls_no_calloc(size_t n, size_t size);
void armored_mbedtls_no_free(void *p);
void armored_mbedtls_fatal(int code);

void *armored_mbedtls_no_calloc(size_t n, size_t size) {
  (void)n;
  (void)size;
  return NULL;
}

void armored_mbedtls_no_free(void *p) { (void)p; }

void armored_mbedtls_fatal(int code) {
  (void)code;
  for (;;) {
  }
}
