#pragma once
// The cloud's E3 state: a snapshot of the whole opener plus a journal of
// single-device entries appended since (docs/e3-protocol.md section 8). An
// announcement or a command reservation appends only the device it changed,
// so its cost does not grow with the number of enrolled devices; once the
// journal outgrows the snapshot, the next persist writes a whole snapshot
// again (compaction).
//
// Two writers: the storage thread persists before acknowledging a PUBLISH that
// installed an epoch, the network thread when a command needs a new
// sequence-number reservation. Everything is numbered when it is taken (on
// the network thread, where the opener lives). A snapshot older than the one
// on disk is skipped; a journal entry older than the snapshot is ignored on
// load; entries apply in number order, so the state never goes back to an
// older reservation, epoch or replay window.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "e3/opener.h"
#include "e3/state_store.h"

namespace armored::cloud {

// Something to persist before a commit: a whole snapshot or one device entry.
struct E3StateUpdate {
  std::shared_ptr<const Bytes> bytes;
  std::uint64_t generation = 0;
  bool whole = false;
};

class E3StateFile final : public e3::StateStore {
 public:
  explicit E3StateFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Restores `opener` (devices added first) from the snapshot and journal,
  // then compacts them into one snapshot. A torn last journal entry (a crash
  // during its append: never acknowledged) is dropped.
  Status load(e3::Opener& opener);

  // Network thread: the number of a snapshot taken now.
  std::uint64_t next_generation() { return next_.fetch_add(1) + 1; }
  // Network thread: what to persist for these changed devices: their entries,
  // or a whole snapshot when the journal has outgrown the last one.
  std::vector<E3StateUpdate> capture(const e3::Opener& opener, std::span<const Bytes> changed_kids);
  // Any thread: writes a whole snapshot (0600, atomic replace) unless a newer
  // one is on disk already; returns once it is durable.
  Status write(std::uint64_t generation, ByteSpan state);
  // Any thread: persists updates (the newest snapshot, then the entries in one
  // append and one fsync); returns once they are durable.
  Status persist(std::span<const E3StateUpdate> updates);
  // For Opener::seal_command (network thread).
  Status save(ByteSpan state) override { return write(next_generation(), state); }
  bool keeps_device_records() const override { return true; }
  Status save_device_record(ByteSpan entry) override;

  std::uint64_t skipped() const;  // older snapshots not written
  std::uint64_t journal_bytes() const { return journal_bytes_.load(); }
  std::filesystem::path journal_path() const;

 private:
  struct Entry {
    std::uint64_t generation;
    Bytes bytes;
  };
  Status append_locked(std::span<const Entry* const> entries);
  Status write_locked(std::uint64_t generation, ByteSpan state);

  std::filesystem::path path_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> journal_bytes_{0};
  std::atomic<std::uint64_t> snapshot_bytes_{0};
  mutable std::mutex mu_;
  std::uint64_t on_disk_ = 0;  // generation of the snapshot on disk
  std::uint64_t skipped_ = 0;
};

}  // namespace armored::cloud
