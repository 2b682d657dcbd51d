#pragma once
// Writing thousands of small files (a fleet run) without paying two fsyncs
// per file: each file is still written atomically (temporary file in the
// same directory, then rename), and one syncfs() at the end makes the whole
// batch durable before the index that refers to it is written.

#include <filesystem>
#include <sys/types.h>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::pki {

// Safe to call from several threads at once (no shared state).
Status write_file_atomic_unsynced(const std::filesystem::path& path, ByteSpan data, mode_t mode);

// Flushes every file written so far on the file system holding `dir`.
Status sync_file_system(const std::filesystem::path& dir);

}  // namespace armored::pki
