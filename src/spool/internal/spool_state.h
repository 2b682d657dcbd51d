#pragma once
// Internal state of a Spool, shared by the open, write and read paths.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

#include "spool/internal/ack_file.h"
#include "spool/segment_format.h"
#include "spool/spool.h"

namespace armored::spool {

// One segment file. The descriptor stays open for the segment's life, so a
// reader holding the shared_ptr can finish even after the file is unlinked.
struct Segment {
  std::filesystem::path path;
  std::uint64_t first_id = 0;
  std::uint64_t records = 0;
  std::uint64_t size = 0;  // bytes, header included
  std::vector<std::uint32_t> index;  // offset of every kIndexStride-th record
  int fd = -1;
  // The mirror's copy (same bytes), when the spool has a mirror.
  std::filesystem::path mirror_path;
  int mirror_fd = -1;

  ~Segment() {
    if (fd >= 0) ::close(fd);
    if (mirror_fd >= 0) ::close(mirror_fd);
  }
  // Meaningful only when records > 0.
  std::uint64_t last_id() const { return first_id + records - 1; }
};

// One append_batch's frames, kept exactly as written to the segment file.
struct TailBlock {
  std::uint64_t first_id = 0;
  std::uint64_t count = 0;
  Bytes frames;
  std::uint64_t last_id() const { return first_id + count - 1; }
};

struct Spool::State {
  std::filesystem::path dir;
  SpoolOptions opt;
  int lock_fd = -1;
  int mirror_lock_fd = -1;

  // Guards everything below except the ack file.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Segment>> segments;  // ascending ids
  bool active_open = false;  // segments.back() takes appends
  std::uint64_t next_id = 1;
  std::uint64_t acked = 0;
  std::uint64_t written_id = 0;  // highest id handed to the kernel
  std::uint64_t durable_id = 0;  // highest id known to be on stable storage
  int syncs_in_flight = 0;        // fdatasync calls running without the mutex
  std::uint64_t sync_target = 0;  // highest id any started sync covers
  bool failed = false;           // a write or sync failed: refuse writes until reopened
  std::string failure;
  std::uint64_t disk_bytes = 0;
  SpoolStats counters;
  // Memory tail: blocks with consecutive ids ending at written_id (or empty),
  // at most opt.memory_tail_bytes of frames. Readers take shared_ptrs, so
  // eviction never invalidates a peek in progress.
  std::deque<std::shared_ptr<const TailBlock>> tail;
  std::size_t tail_bytes = 0;

  // Serialises ack-cursor writes (held without `mu`, so acks do not stall appends).
  std::mutex ack_mu;
  AckFile ack_file;
  std::uint64_t persisted_ack = 0;

  ~State() {
    if (lock_fd >= 0) ::close(lock_fd);
    if (mirror_lock_fd >= 0) ::close(mirror_lock_fd);
  }
  bool mirrored() const { return opt.mirror_dir.has_value(); }
  std::size_t scan_limit() const { return std::max(opt.max_record_bytes, opt.max_segment_bytes); }
};

// Adds a written block to the memory tail (mutex held), evicting the oldest
// blocks to stay within the budget.
void tail_push(Spool::State& s, std::uint64_t first_id, std::uint64_t count, Bytes&& frames);
// Drops tail blocks that are fully acknowledged (mutex held).
void tail_drop_acked(Spool::State& s);

std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint64_t first_id);
inline SpoolError spool_error(SpoolErrorCode c, std::string m) { return SpoolError{c, std::move(m)}; }
SpoolError errno_error(const std::string& what, const std::filesystem::path& p);
// pwrite of all of `data` at offset `at`.
Result<void, SpoolError> write_all(int fd, ByteSpan data, std::uint64_t at, const std::filesystem::path& p);
// fsync of a directory, so created or renamed entries survive power loss.
bool sync_dir(const std::filesystem::path& dir);

}  // namespace armored::spool
