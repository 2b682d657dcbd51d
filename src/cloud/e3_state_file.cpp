#include "cloud/internal/e3_state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/file_io.h"

namespace armored::cloud {
namespace {

namespace fs = std::filesystem;

// Snapshot file: magic, generation (u64 big-endian), Opener::serialize().
// A file without the magic is an older plain snapshot (generation 0).
constexpr std::uint8_t kMagic[8] = {'A', 'R', 'M', 'E', '3', 'S', 'T', '1'};
// Journal entry: length (u32 BE) of the device entry, generation (u64 BE), entry.
constexpr std::size_t kEntryHeader = 12;
constexpr std::size_t kMaxEntry = 64u << 10;
// A device costs about 0.3 KiB per epoch held in the snapshot: room for
// 1,000,000 devices holding two epochs each (docs/e3-protocol.md section 8).
constexpr std::size_t kMaxFile = 1u << 30;
// The journal may grow to the snapshot's size (at least this) before compaction.
constexpr std::uint64_t kMinJournalBeforeCompaction = 1u << 20;

void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

Status append_durably(const fs::path& path, ByteSpan data) {
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open " + path.string() + ": " + std::strerror(errno));
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return fail("cannot append to " + path.string() + ": " + why);
    }
    off += static_cast<std::size_t>(n);
  }
  const int rc = ::fdatasync(fd);
  ::close(fd);
  if (rc != 0) return fail("cannot fsync " + path.string());
  if (!existed) {
    // A new file's name must be durable too.
    fs::path dir = path.parent_path();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return fail("cannot open directory of " + path.string());
    const int drc = ::fsync(dfd);
    ::close(dfd);
    if (drc != 0) return fail("cannot fsync directory of " + path.string());
  }
  return {};
}

// Calls f(generation, entry) for each journal entry in file order; returns
// true if the file ends in a partial entry (a crash during its append).
template <typename F>
bool for_each_entry(ByteSpan file, F&& f) {
  std::size_t off = 0;
  while (off < file.size()) {
    if (file.size() - off < kEntryHeader) return true;
    const std::size_t len = get_be(file.data() + off, 4);
    const std::uint64_t gen = get_be(file.data() + off + 4, 8);
    if (len > kMaxEntry || file.size() - off - kEntryHeader < len || gen == 0) return true;
    f(gen, file.subspan(off + kEntryHeader, len));
    off += kEntryHeader + len;
  }
  return false;
}

Bytes encode_entries(std::span<const E3StateUpdate> updates, std::uint64_t after) {
  Bytes out;
  for (const auto& u : updates) {
    if (u.whole || !u.bytes || u.generation <= after) continue;
    put_be(out, u.bytes->size(), 4);
    put_be(out, u.generation, 8);
    out.insert(out.end(), u.bytes->begin(), u.bytes->end());
  }
  return out;
}

}  // namespace

fs::path E3StateFile::journal_path() const { return fs::path(path_.string() + ".journal"); }

Status E3StateFile::load(e3::Opener& opener) {
  std::lock_guard lk(mu_);
  std::error_code ec;
  std::uint64_t snapshot_gen = 0;
  if (fs::exists(path_, ec)) {
    auto file = read_file(path_, kMaxFile);
    if (!file) return unexpected(file.error());
    ByteSpan state = *file;
    if (state.size() >= sizeof(kMagic) + 8 && std::equal(std::begin(kMagic), std::end(kMagic), state.begin())) {
      snapshot_gen = get_be(state.data() + sizeof(kMagic), 8);
      state = state.subspan(sizeof(kMagic) + 8);
    }
    if (auto r = opener.restore(state); !r) return fail(path_.string(), r.error());
    snapshot_bytes_ = file->size();
  }
  std::vector<Entry> entries;
  bool torn = false;
  if (fs::exists(journal_path(), ec)) {
    auto file = read_file(journal_path(), kMaxFile);
    if (!file) return unexpected(file.error());
    torn = for_each_entry(*file, [&](std::uint64_t gen, ByteSpan e) {
      entries.push_back({gen, Bytes(e.begin(), e.end())});
    });
  }
  // Apply in the order the entries were taken; older than the snapshot: already in it.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.generation < b.generation;
  });
  std::uint64_t highest = snapshot_gen;
  for (const auto& e : entries) {
    highest = std::max(highest, e.generation);
    if (e.generation <= snapshot_gen) continue;
    if (auto r = opener.restore_device(e.bytes); !r) return fail(journal_path().string(), r.error());
  }
  on_disk_ = snapshot_gen;
  next_ = highest;
  if (entries.empty() && !torn) return {};
  // Compact now: one snapshot, an empty journal.
  return write_locked(next_generation(), opener.serialize());
}

std::vector<E3StateUpdate> E3StateFile::capture(const e3::Opener& opener, std::span<const Bytes> changed_kids) {
  std::vector<E3StateUpdate> out;
  if (changed_kids.empty()) return out;
  const std::uint64_t limit = std::max<std::uint64_t>(snapshot_bytes_.load(), kMinJournalBeforeCompaction);
  if (journal_bytes_.load() > limit) {
    out.push_back({std::make_shared<const Bytes>(opener.serialize()), next_generation(), true});
    return out;
  }
  for (const auto& kid : changed_kids) {
    out.push_back({std::make_shared<const Bytes>(opener.serialize_device(kid)), next_generation(), false});
  }
  return out;
}

Status E3StateFile::write(std::uint64_t generation, ByteSpan state) {
  std::lock_guard lk(mu_);
  return write_locked(generation, state);
}

Status E3StateFile::write_locked(std::uint64_t generation, ByteSpan state) {
  if (generation <= on_disk_) {
    ++skipped_;
    return {};
  }
  Bytes file(std::begin(kMagic), std::end(kMagic));
  put_be(file, generation, 8);
  file.insert(file.end(), state.begin(), state.end());
  ARMORED_TRY(write_file_atomic(path_, file, 0600));
  on_disk_ = generation;
  snapshot_bytes_ = file.size();
  // Entries the snapshot contains are dropped; newer ones are kept. Safe in
  // either crash order: load() ignores entries older than the snapshot.
  // Read back from the file rather than mirrored in memory: the journal
  // grows to the snapshot's size, hundreds of bytes per device.
  Bytes rest;
  std::error_code ec;
  if (fs::exists(journal_path(), ec)) {
    auto journal = read_file(journal_path(), kMaxFile);
    if (!journal) return unexpected(journal.error());
    for_each_entry(*journal, [&](std::uint64_t gen, ByteSpan e) {
      if (gen <= generation) return;
      put_be(rest, e.size(), 4);
      put_be(rest, gen, 8);
      rest.insert(rest.end(), e.begin(), e.end());
    });
  }
  ARMORED_TRY(write_file_atomic(journal_path(), rest, 0600));
  journal_bytes_ = rest.size();
  return {};
}

Status E3StateFile::persist(std::span<const E3StateUpdate> updates) {
  std::lock_guard lk(mu_);
  const E3StateUpdate* newest = nullptr;
  for (const auto& u : updates) {
    if (u.whole && u.bytes && (!newest || u.generation > newest->generation)) newest = &u;
  }
  if (newest) ARMORED_TRY(write_locked(newest->generation, *newest->bytes));
  Bytes data = encode_entries(updates, on_disk_);
  if (data.empty()) return {};
  ARMORED_TRY(append_durably(journal_path(), data));
  journal_bytes_ += data.size();
  return {};
}

Status E3StateFile::save_device_record(ByteSpan entry) {
  E3StateUpdate u{std::make_shared<const Bytes>(entry.begin(), entry.end()), next_generation(), false};
  return persist(std::span<const E3StateUpdate>(&u, 1));
}

std::uint64_t E3StateFile::skipped() const {
  std::lock_guard lk(mu_);
  return skipped_;
}

}  // namespace armored::cloud
