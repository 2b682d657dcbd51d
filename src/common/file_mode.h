#pragma once
// Owner-only files for what Armored keeps that others must not read:
// decrypted readings (the SQLite database and its -wal/-shm), E3 state,
// ticket keys, spool segments. New files are created 0600; an existing
// file that group or others may access is reported at start.

#include <filesystem>
#include <string>

#include "common/result.h"

namespace armored {

// What to do when a private file exists with group/other permission bits.
enum class ExposedFilePolicy : std::uint8_t {
  kRefuse,  // fail: the operator fixes the mode (chmod 600) and restarts
  kWarn,    // log a warning and go on
};

// Creates `path` empty with mode 0600 if it does not exist (O_EXCL, so an
// existing file is never truncated), whatever the umask. Does not follow a
// final symlink when creating.
Status create_private_file(const std::filesystem::path& path);

// If `path` exists and group or others have any permission on it: with
// kRefuse an error naming the file, its mode and the fix; with kWarn a
// warning in the log and success. A missing file is fine. `what` names the
// file's role in messages ("SQLite database").
Status check_private_file(const std::filesystem::path& path, ExposedFilePolicy policy, std::string_view what);

}  // namespace armored
