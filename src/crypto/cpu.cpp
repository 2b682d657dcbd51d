#include "crypto/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#endif
#endif

namespace armored::crypto {

bool cpu_has_aes_acceleration() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID.1:ECX bit 25 (AESNI) and bit 1 (PCLMULQDQ): OpenSSL's fast GCM
  // needs both (GHASH is a carry-less multiply); AES-NI alone still leaves
  // GCM slower than ChaCha20. OPENSSL_ia32cap_loc, which would say what
  // OpenSSL itself sees, is not exported by Debian's libcrypto 3.0.
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_AES) != 0 && (ecx & bit_PCLMUL) != 0;
#elif defined(__aarch64__)
  const unsigned long caps = getauxval(AT_HWCAP);
  return (caps & HWCAP_AES) != 0 && (caps & HWCAP_PMULL) != 0;
#elif defined(__arm__)
  const unsigned long caps = getauxval(AT_HWCAP2);
  return (caps & (1u << 0)) != 0 && (caps & (1u << 1)) != 0;  // HWCAP2_AES, HWCAP2_PMULL
#else
  return false;
#endif
}

AeadAlg default_aead_for(bool aes_accelerated) {
  return aes_accelerated ? AeadAlg::kAes128Gcm : AeadAlg::kChaCha20Poly1305;
}

AeadAlg default_aead() { return default_aead_for(cpu_has_aes_acceleration()); }

}  // namespace armored::crypto
