#include "pki/batch_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace armored::pki {

namespace {
std::string errno_text(const char* what, const std::filesystem::path& p) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}
}  // namespace

Status write_file_atomic_unsynced(const std::filesystem::path& path, ByteSpan data, mode_t mode) {
  std::string tmp = path.parent_path().string() + "/." + path.filename().string() + ".tmpXXXXXX";
  int fd = ::mkstemp(tmp.data());  // created 0600: nothing readable before fchmod
  if (fd < 0) return fail(errno_text("cannot create temporary file for", path));
  auto abandon = [&](const char* what) {
    auto msg = errno_text(what, path);
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(msg);
  };
  if (::fchmod(fd, mode) != 0) return abandon("cannot set mode on");
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return abandon("cannot write");
    off += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    auto msg = errno_text("cannot write", path);
    ::unlink(tmp.c_str());
    return fail(msg);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto msg = errno_text("cannot rename into", path);
    ::unlink(tmp.c_str());
    return fail(msg);
  }
  return {};
}

Status sync_file_system(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errno_text("cannot open", dir));
  int rc = ::syncfs(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return fail(errno_text("cannot sync file system of", dir));
  return {};
}

}  // namespace armored::pki
