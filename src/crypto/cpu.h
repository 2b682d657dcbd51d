#pragma once
// CPU feature detection that picks the default AEAD for a device.

#include "crypto/aead.h"

namespace armored::crypto {

// True when the CPU has the instructions OpenSSL's fast AES-GCM uses: AES
// and carry-less multiply (AES-NI + PCLMULQDQ on x86, the ARMv8 AES and
// PMULL extensions on ARM), read from CPUID / getauxval. The one answer for
// every AEAD choice: E3's default AEAD and the TLS cipher order.
bool cpu_has_aes_acceleration();

// AES-128-GCM with AES acceleration, ChaCha20-Poly1305 without: software AES
// is slow and prone to cache-timing leaks, ChaCha20 is fast in plain code.
AeadAlg default_aead_for(bool aes_accelerated);
AeadAlg default_aead();

}  // namespace armored::crypto
