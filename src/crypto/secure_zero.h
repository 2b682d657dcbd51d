#pragma once
// Wiping secrets: the compiler may not elide these stores (OPENSSL_cleanse).

#include <span>

#include "common/bytes.h"

namespace armored::crypto {

// Overwrites `data` with zeros in a way the optimiser keeps.
void secure_zero(std::span<std::uint8_t> data);

}  // namespace armored::crypto
