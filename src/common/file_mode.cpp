#include "common/file_mode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/log.h"

namespace armored {

Status create_private_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return fail(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  // The umask can only remove bits; fchmod makes the mode exact anyway.
  const bool ok = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!ok) return fail(fmt::format("cannot set mode 0600 on {}: {}", path.string(), std::strerror(errno)));
  return {};
}

Status check_private_file(const std::filesystem::path& path, ExposedFilePolicy policy, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail(fmt::format("cannot stat {} {}: {}", what, path.string(), std::strerror(errno)));
  }
  const unsigned mode = st.st_mode & 07777;
  if ((mode & 077) == 0) return {};
  const std::string msg = fmt::format("{} {} has mode {:04o}: group or others can access it (run chmod 600 {})",
                                      what, path.string(), mode, path.string());
  if (policy == ExposedFilePolicy::kRefuse) return fail(msg + "; refusing to start ([storage] file_permissions)");
  spdlog::warn("{}", msg);
  return {};
}

}  // namespace armored
