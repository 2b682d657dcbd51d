#include "spool/internal/ack_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/bytes.h"
#include "spool/internal/crc32c.h"

namespace armored::spool {
namespace {

constexpr std::size_t kSlotSize = 512;
constexpr std::size_t kSlotBytes = 24;
constexpr std::uint8_t kMagic[4] = {'A', 'C', 'K', '1'};

struct Slot {
  std::uint64_t generation;
  std::uint64_t acked;
};

std::array<std::uint8_t, kSlotBytes> encode(const Slot& s) {
  Bytes b(kMagic, kMagic + 4);
  ByteWriter w(b);
  w.u32be(static_cast<std::uint32_t>(s.generation >> 32));
  w.u32be(static_cast<std::uint32_t>(s.generation));
  w.u32be(static_cast<std::uint32_t>(s.acked >> 32));
  w.u32be(static_cast<std::uint32_t>(s.acked));
  w.u32be(crc32c(b));
  std::array<std::uint8_t, kSlotBytes> out{};
  std::memcpy(out.data(), b.data(), kSlotBytes);
  return out;
}

std::optional<Slot> decode(ByteSpan b) {
  if (b.size() < kSlotBytes || std::memcmp(b.data(), kMagic, 4) != 0) return std::nullopt;
  ByteReader r(b.subspan(4));
  std::uint64_t gen = 0, acked = 0;
  std::uint32_t crc = 0;
  (void)r.read_uint_be(8, gen);
  (void)r.read_uint_be(8, acked);
  (void)r.read_u32be(crc);
  if (crc32c(b.first(20)) != crc) return std::nullopt;
  return Slot{gen, acked};
}

Status errno_fail(const std::string& what, const std::filesystem::path& p) {
  return fail(what + " " + p.string() + ": " + std::strerror(errno));
}

}  // namespace

AckFile::~AckFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status AckFile::open(const std::filesystem::path& path, std::uint64_t& out_acked) {
  path_ = path;
  corrupt_ = false;
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return errno_fail("cannot open", path);
  std::array<std::uint8_t, 2 * kSlotSize> buf{};
  ssize_t n = ::pread(fd_, buf.data(), buf.size(), 0);
  if (n < 0) return errno_fail("cannot read", path);
  if (n == 0) {  // new file: generation 0, nothing acknowledged
    out_acked = 0;
    generation_ = 0;
    ARMORED_TRY(write(0));
    int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return {};
  }
  std::optional<Slot> best;
  for (std::size_t i = 0; i < 2; ++i) {
    if (static_cast<std::size_t>(n) < i * kSlotSize + kSlotBytes) continue;
    auto s = decode(ByteSpan(buf.data() + i * kSlotSize, kSlotBytes));
    if (s && (!best || s->generation > best->generation)) best = s;
  }
  if (!best) {
    corrupt_ = true;
    return fail("ack cursor " + path.string() + " is corrupt (no valid slot)");
  }
  out_acked = best->acked;
  generation_ = best->generation;
  return {};
}

Status AckFile::write(std::uint64_t acked) {
  const std::uint64_t gen = generation_ + 1;
  auto slot = encode(Slot{gen, acked});
  off_t at = static_cast<off_t>((gen % 2) * kSlotSize);
  ssize_t n = ::pwrite(fd_, slot.data(), slot.size(), at);
  if (n != static_cast<ssize_t>(slot.size())) return errno_fail("cannot write", path_);
  if (::fdatasync(fd_) != 0) return errno_fail("cannot sync", path_);
  generation_ = gen;
  return {};
}

}  // namespace armored::spool
