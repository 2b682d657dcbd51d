#pragma once
// The gateway's durable spool: an append-only queue of records (E3
// envelopes or batches of them) in segment files under one directory.
// A record leaves the spool only when acknowledged. docs/spool.md describes
// the format, the crash-recovery rules and the policy when full.
//
// Thread-safe: any number of threads may append (concurrent appends share
// one fdatasync: group commit), peek and ack.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::spool {

enum class SpoolErrorCode : std::uint8_t {
  kFull,        // accepting the record would exceed max_total_bytes; nothing written
  kTooLarge,    // record empty or above max_record_bytes
  kInvalidAck,  // ack beyond the last appended record
  kCorrupt,     // damaged data that is not a torn tail (see docs/spool.md)
  kLocked,      // another process has the spool open
  kIo,          // the operating system refused (on either copy, with a mirror);
                // after a failed sync the spool refuses all writes until reopened
  kBadOptions,  // SpoolOptions that contradict each other (a mirror inside the spool)
};

struct SpoolError {
  SpoolErrorCode code;
  std::string message;
};

// The general error, component "spool". Options the caller chose badly are
// bad input (exit 2); the rest happened to a running spool (exit 1).
inline Error to_error(const SpoolError& e) {
  static constexpr std::string_view kNames[] = {"full", "too_large", "invalid_ack", "corrupt",
                                                "locked", "io", "bad_options"};
  const bool input = e.code == SpoolErrorCode::kBadOptions || e.code == SpoolErrorCode::kTooLarge;
  return {e.message, "spool", kNames[static_cast<std::size_t>(e.code)],
          input ? ErrorKind::kBadInput : ErrorKind::kFailed};
}

template <typename T>
using SpoolResult = Result<T, SpoolError>;

enum class OnCorruption : std::uint8_t {
  kFail,        // open() fails with kCorrupt; nothing is changed on disk
  kQuarantine,  // keep every intact record: the damaged bytes alone move to
                // <segment>.damaged-<offset>, the intact records after them
                // become a segment of their own, a damaged ack cursor is
                // rebuilt from the segments (re-sending, never losing); all
                // of it counted and listed in SpoolStats::quarantined
};

struct SpoolOptions {
  std::size_t max_total_bytes = std::size_t{1} << 30;   // all segment files together
  std::size_t max_segment_bytes = std::size_t{64} << 20;
  std::size_t max_record_bytes = std::size_t{1} << 20;
  OnCorruption on_corruption = OnCorruption::kFail;
  // Group commit: how many fdatasync calls may overlap. 1 = strictly one
  // sync at a time, every other appender waits for it (fewest syncs). More
  // lets the file system merge concurrent syncs into one journal commit,
  // which on ext4 is faster (docs/spool.md has the figures).
  int max_concurrent_syncs = 4;
  // Memory tail: the most recently appended records (up to this many bytes
  // of frames) stay in memory, so a reader that keeps up (the gateway
  // forwarding what it just spooled) peeks them without reading the file.
  // 0 reads everything from disk. Records are served only once durable,
  // exactly as from disk; docs/spool.md, "Memory tail".
  std::size_t memory_tail_bytes = std::size_t{8} << 20;
  // Mirror: a second copy of every segment file in this directory (ideally
  // on another device), written and synced before an append returns, so a
  // range damaged or cut in one copy is repaired from the other at open
  // (docs/spool.md, "Mirror"). Must not be `dir` or inside it. A missing or
  // empty mirror is built from the primary at open. Off by default: it
  // doubles the writes and the syncs. A failed mirror write fails the append
  // (no silent single copy). The ack cursor stays in `dir` only.
  std::optional<std::filesystem::path> mirror_dir;
  // Sync the two copies of a segment at the same time (one of them on a
  // short-lived thread) rather than one after the other. spool_bench
  // measures both; docs/spool.md has the figures.
  bool mirror_concurrent_sync = true;
};

struct SpoolRecord {
  std::uint64_t id;
  Bytes payload;
};

struct SpoolStats {
  std::uint64_t next_id = 0;          // id the next append will get
  std::uint64_t acked_id = 0;         // every id <= this is acknowledged
  std::uint64_t pending_records = 0;  // appended, not acknowledged
  std::uint64_t disk_bytes = 0;       // segment files on disk (what max_total_bytes bounds)
  std::uint64_t segments = 0;
  std::uint64_t appended_records = 0;  // since open
  std::uint64_t syncs = 0;             // fdatasync calls made for appends since open (a mirrored one syncs both copies)
  std::uint64_t full_rejections = 0;   // appends refused with kFull
  std::uint64_t torn_tail_truncations = 0;  // at open
  std::uint64_t torn_bytes = 0;             // bytes cut from torn tails at open
  std::uint64_t corrupt_segments = 0;       // damaged ranges quarantined at open
  std::uint64_t quarantined_bytes = 0;      // bytes moved aside at open
  bool ack_rebuilt = false;                 // the ack cursor was damaged and rebuilt at open
  std::vector<std::string> quarantined;     // files the damaged bytes were moved to, at open
  std::uint64_t corrupt_reads = 0;          // checksum failures found by peek
  std::uint64_t id_gaps = 0;                // ids missing between segments (quarantine)
  std::uint64_t tail_records_read = 0;      // records peek served from the memory tail
  std::uint64_t disk_records_read = 0;      // records peek read (and checked) from segment files
  std::uint64_t tail_bytes = 0;             // frame bytes held in the memory tail now
  // Mirror (at open): ranges of one copy rewritten from the other, and their
  // bytes (a torn tail made whole counts as one range); segments one copy
  // lacked, copied whole from the other (a new mirror is built this way);
  // one sentence per repair or copy, naming the file, for the log.
  std::uint64_t mirror_repairs = 0;
  std::uint64_t mirror_repaired_bytes = 0;
  std::uint64_t mirror_copied_segments = 0;
  std::uint64_t mirror_copied_bytes = 0;
  std::vector<std::string> mirror_log;
  std::uint64_t mirror_reads = 0;  // records peek took from the mirror after the primary's failed its checks
};

class Spool {
 public:
  // Opens (creating if needed) the spool in `dir` and recovers it: verifies
  // every record, truncates a torn tail, deletes fully acknowledged segments.
  // With options.mirror_dir, first repairs each copy from the other, then
  // makes the mirror equal to the recovered primary.
  static SpoolResult<std::unique_ptr<Spool>> open(const std::filesystem::path& dir,
                                                  const SpoolOptions& options = {});
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one record; returns its id once it is on stable storage.
  SpoolResult<std::uint64_t> append(ByteSpan payload);
  // Appends all records with one write and one sync; returns the first id
  // (the others follow consecutively). All or nothing. An empty batch
  // writes nothing and returns the id the next record will get.
  SpoolResult<std::uint64_t> append_batch(std::span<const ByteSpan> payloads);

  // Up to `max_records` durable records with ids after max(after_id, the ack
  // cursor), in order, stopping before `max_bytes` of payload (at least one
  // record is returned if any is pending). Served from the memory tail when
  // it holds them, else read from the files with every check (length, CRC, id).
  SpoolResult<std::vector<SpoolRecord>> peek(std::size_t max_records, std::size_t max_bytes = 1u << 20,
                                             std::uint64_t after_id = 0);

  // Acknowledges every record with id <= `id` (persisted before returning).
  // Acking at or below the cursor is a no-op; beyond the last appended id is kInvalidAck.
  Result<void, SpoolError> ack(std::uint64_t id);

  SpoolStats stats() const;
  // A sync failed: the spool refuses writes until it is closed and opened
  // again (which verifies every record and keeps what is durable).
  bool needs_reopen() const;

  struct State;  // internal (spool/spool_state.h)

 private:
  explicit Spool(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace armored::spool
