#pragma once
// The cloud's E3 state file has two writers: the storage thread persists the
// opener's state before acknowledging a PUBLISH that installed an epoch, and
// the network thread persists it when a command needs a new sequence-number
// reservation. Each snapshot is numbered when it is taken (on the network
// thread, where the opener lives); a snapshot older than the one already on
// disk is skipped, so the file never goes back to an older reservation or
// replay window. Every later snapshot contains everything an earlier one did.

#include <atomic>
#include <filesystem>
#include <mutex>

#include "e3/state_store.h"

namespace armored::cloud {

class E3StateFile final : public e3::StateStore {
 public:
  explicit E3StateFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Network thread: the number of a snapshot taken now.
  std::uint64_t next_generation() { return next_.fetch_add(1) + 1; }
  // Any thread: writes a snapshot (0600, atomic replace) unless a newer one
  // is on disk already; returns once it is durable.
  Status write(std::uint64_t generation, ByteSpan state);
  // For Opener::seal_command (network thread): the state it serialised just now.
  Status save(ByteSpan state) override { return write(next_generation(), state); }

  std::uint64_t skipped() const;  // older snapshots not written

 private:
  std::filesystem::path path_;
  std::atomic<std::uint64_t> next_{0};
  mutable std::mutex mu_;
  std::uint64_t on_disk_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace armored::cloud
