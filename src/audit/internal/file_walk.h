#pragma once
// Walks the paths given to `audit secrets` / `audit code`: regular files
// only, version-control directories skipped, symbolic links followed only
// when they stay inside the scanned root (and never into directories).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace armored::audit {

struct WalkStats {
  std::size_t files = 0;
  std::size_t skipped_symlinks = 0;
  std::size_t skipped_unreadable = 0;
};

struct WalkedFile {
  std::filesystem::path path;  // path to open
  std::string display;         // path as reported (root-relative spelling)
  std::uint64_t size = 0;
};

// Calls `visit` for every regular file under each root (a root may itself be
// a file). Errors on single entries are counted, not fatal.
void walk_files(const std::vector<std::filesystem::path>& roots,
                const std::function<void(const WalkedFile&)>& visit, WalkStats& stats);

// Reads a file in bounded chunks: at most max_line bytes per emitted line
// (longer lines are emitted in pieces under the same number), so memory stays
// constant whatever the file holds. Returns false if the file cannot be opened.
// Stops after max_bytes.
bool for_each_line(const std::filesystem::path& path, std::size_t max_line, std::uint64_t max_bytes,
                   const std::function<void(std::string_view line, std::size_t number)>& visit);

// True when the first 8 KiB hold a NUL byte (the heuristic git uses).
bool looks_binary(const std::filesystem::path& path);

}  // namespace armored::audit
