#pragma once
// File helpers shared by every component that persists state: PKI keys,
// E3 sequence reservations, TLS ticket stores, the gateway spool.

#include <filesystem>
#include <string>
#include <sys/types.h>

#include "common/bytes.h"
#include "common/result.h"

namespace armored {

// Writes `data` to `path` atomically: a temporary file in the same directory
// created with `mode`, fsync'ed, renamed over `path`, then the directory is
// fsync'ed. Readers see the old or the new content, never a mix.
Status write_file_atomic(const std::filesystem::path& path, ByteSpan data, mode_t mode = 0600);

// Creates `path` exclusively (fails if it exists) with `mode`, atomically as above.
Status write_file_exclusive(const std::filesystem::path& path, ByteSpan data, mode_t mode = 0600);

// Reads a whole file, refusing files larger than `max_bytes`.
Expected<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes = 16u << 20);
Expected<std::string> read_text_file(const std::filesystem::path& path,
                                     std::size_t max_bytes = 16u << 20);

}  // namespace armored
