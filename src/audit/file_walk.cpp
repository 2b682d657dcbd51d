#include "audit/internal/file_walk.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace armored::audit {

namespace fs = std::filesystem;

namespace {

bool is_vcs_dir(const fs::path& p) {
  auto name = p.filename().string();
  return name == ".git" || name == ".hg" || name == ".svn";
}

bool inside(const fs::path& root_canonical, const fs::path& target) {
  auto rel = target.lexically_relative(root_canonical);
  return !rel.empty() && *rel.begin() != "..";
}

// Opens a file read-only without following a final symlink we did not vet.
class Fd {
 public:
  explicit Fd(const fs::path& p) : fd_(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

void walk_files(const std::vector<fs::path>& roots,
                const std::function<void(const WalkedFile&)>& visit, WalkStats& stats) {
  for (const auto& root : roots) {
    std::error_code ec;
    auto root_status = fs::symlink_status(root, ec);
    if (ec) {
      stats.skipped_unreadable++;
      continue;
    }
    if (fs::is_regular_file(root_status)) {
      stats.files++;
      visit({root, root.string(), fs::file_size(root, ec)});
      continue;
    }
    fs::path root_canonical = fs::weakly_canonical(root, ec);
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) {
      stats.skipped_unreadable++;
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        stats.skipped_unreadable++;
        ec.clear();
        continue;
      }
      const auto& entry = *it;
      auto st = entry.symlink_status(ec);
      if (ec) {
        stats.skipped_unreadable++;
        continue;
      }
      if (fs::is_directory(st)) {
        if (is_vcs_dir(entry.path())) it.disable_recursion_pending();
        continue;
      }
      if (fs::is_symlink(st)) {
        auto target = fs::weakly_canonical(entry.path(), ec);
        if (ec || !inside(root_canonical, target) || !fs::is_regular_file(target, ec)) {
          stats.skipped_symlinks++;
          continue;
        }
      } else if (!fs::is_regular_file(st)) {
        continue;  // sockets, fifos, devices
      }
      stats.files++;
      visit({entry.path(), entry.path().string(), fs::file_size(entry.path(), ec)});
    }
  }
}

bool for_each_line(const fs::path& path, std::size_t max_line, std::uint64_t max_bytes,
                   const std::function<void(std::string_view, std::size_t)>& visit) {
  Fd fd(path);
  if (fd.get() < 0) return false;
  std::array<char, 65536> buf{};
  std::string line;
  std::size_t number = 1;
  std::uint64_t total = 0;
  while (total < max_bytes) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), max_bytes - total));
    ssize_t n = ::read(fd.get(), buf.data(), want);
    if (n < 0) return false;
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    for (ssize_t i = 0; i < n; ++i) {
      char c = buf[static_cast<std::size_t>(i)];
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        visit(line, number++);
        line.clear();
        continue;
      }
      line.push_back(c);
      if (line.size() >= max_line) {
        visit(line, number);
        line.clear();
      }
    }
  }
  if (!line.empty()) visit(line, number);
  return true;
}

bool looks_binary(const fs::path& path) {
  Fd fd(path);
  if (fd.get() < 0) return false;
  std::array<char, 8192> buf{};
  ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  if (n <= 0) return false;
  return std::memchr(buf.data(), 0, static_cast<std::size_t>(n)) != nullptr;
}

}  // namespace armored::audit
