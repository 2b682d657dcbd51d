#pragma once
// On-disk form of a server's ticket-encryption keys, so that tickets issued
// before a restart still resume after it. Written atomically with mode 0600;
// the keys are secrets and are never logged.
//
// Format (integers big-endian):
//   "ARMTKEY1" (8) | count u16 (1..kMaxTicketKeys)
//   | count x (name 16 | AES key 32 | HMAC key 32 | created, Unix seconds u64)
//   | SHA-256 of everything before (32)

#include <deque>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "tls/ticket_keys.h"

namespace armored::tls {

inline constexpr std::size_t kMaxTicketKeys = 64;

// Serializes `keys` (newest first, at most kMaxTicketKeys).
Bytes encode_ticket_keys(const std::deque<TicketKey>& keys);

// Parses a key file. Fails, naming what is wrong, on a wrong magic, a count
// of 0 or above kMaxTicketKeys, a length that does not match the count, a
// checksum mismatch, a creation time after the year 2223 or duplicate key
// names.
Result<std::deque<TicketKey>, std::string> decode_ticket_keys(ByteSpan file);

}  // namespace armored::tls
