#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
// ext4 and LevelDB logs: hardware instruction where the CPU has SSE4.2,
// a slicing-by-8 table otherwise.

#include <cstdint>

#include "common/bytes.h"

namespace armored::spool {

// CRC of `data` continuing from `crc` (0 to start).
std::uint32_t crc32c(ByteSpan data, std::uint32_t crc = 0);

// The table-driven path only (tests compare it with the hardware path).
std::uint32_t crc32c_portable(ByteSpan data, std::uint32_t crc = 0);

}  // namespace armored::spool
