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
  // CPUID.1:ECX bit 25 (AESNI) is the bit OpenSSL's ia32cap vector mirrors
  // (OPENSSL_ia32cap_loc is not exported by Debian's libcrypto 3.0).
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_AES) != 0;
#elif defined(__aarch64__)
  return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#elif defined(__arm__)
  return (getauxval(AT_HWCAP2) & (1u << 0)) != 0;  // HWCAP2_AES
#else
  return false;
#endif
}

AeadAlg default_aead_for(bool aes_accelerated) {
  return aes_accelerated ? AeadAlg::kAes128Gcm : AeadAlg::kChaCha20Poly1305;
}

AeadAlg default_aead() { return default_aead_for(cpu_has_aes_acceleration()); }

}  // namespace armored::crypto
