#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace armored {
namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what, const fs::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

Status write_all(int fd, ByteSpan data, const fs::path& p) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_text("cannot write", p));
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errno_text("cannot open directory", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(errno_text("cannot fsync directory", dir));
  return {};
}

Status write_via_temp(const fs::path& path, ByteSpan data, mode_t mode, bool exclusive) {
  fs::path dir = path.parent_path();
  std::string tmpl = (dir.empty() ? fs::path(".") : dir).string() + "/." +
                     path.filename().string() + ".tmpXXXXXX";
  // mkstemp creates the file 0600; fchmod sets the requested mode before any data lands.
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail(errno_text("cannot create temporary file for", path));
  fs::path tmp = tmpl;
  auto cleanup = [&] { ::unlink(tmp.c_str()); };
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    cleanup();
    return fail(errno_text("cannot set mode on", path));
  }
  if (auto st = write_all(fd, data, path); !st) {
    ::close(fd);
    cleanup();
    return st;
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    cleanup();
    return fail(errno_text("cannot fsync", path));
  }
  ::close(fd);
  if (exclusive) {
    // link() fails with EEXIST if the target exists: no overwrite race.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      auto msg = errno == EEXIST ? path.string() + " already exists"
                                 : errno_text("cannot create", path);
      cleanup();
      return fail(msg);
    }
    cleanup();
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto msg = errno_text("cannot replace", path);
    cleanup();
    return fail(msg);
  }
  return fsync_dir(dir);
}

}  // namespace

Status write_file_atomic(const fs::path& path, ByteSpan data, mode_t mode) {
  return write_via_temp(path, data, mode, false);
}

Status write_file_exclusive(const fs::path& path, ByteSpan data, mode_t mode) {
  return write_via_temp(path, data, mode, true);
}

Expected<Bytes> read_file(const fs::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno_text("cannot open", path));
  Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail(errno_text("cannot read", path));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return fail(path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Expected<std::string> read_text_file(const fs::path& path, std::size_t max_bytes) {
  auto bytes = read_file(path, max_bytes);
  if (!bytes) return unexpected(bytes.error());
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace armored
