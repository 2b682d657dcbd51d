#pragma once
// CPU feature detection that picks the default AEAD for a device.

#include "crypto/aead.h"

namespace armored::crypto {

// True when the CPU has AES instructions that OpenSSL uses (AES-NI on x86,
// the ARMv8 AES extension on ARM), read from CPUID / getauxval.
bool cpu_has_aes_acceleration();

// AES-128-GCM with AES acceleration, ChaCha20-Poly1305 without: software AES
// is slow and prone to cache-timing leaks, ChaCha20 is fast in plain code.
AeadAlg default_aead_for(bool aes_accelerated);
AeadAlg default_aead();

}  // namespace armored::crypto
