#pragma once
// Where a sender's state goes before it may use new sequence numbers
// (reserve-ahead, RFC 8613 Appendix B.1.1). The protocol core calls save()
// only when a reservation runs out or an epoch starts; everything else is
// sans-I/O.

#include <filesystem>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::e3 {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Durably replaces the stored state; returns only once it is on disk.
  virtual Status save(ByteSpan state) = 0;
  // Stores that can persist one device's entry (Opener::serialize_device)
  // instead of the whole state say so; the opener then saves only what changed.
  virtual bool keeps_device_records() const { return false; }
  // Durably records one device's entry; returns only once it is on disk.
  virtual Status save_device_record(ByteSpan entry) {
    (void)entry;
    return fail("this state store keeps only whole states");
  }
  // Stores shared by several senders (the fronts of a scaled cloud) hand
  // out each command sequence number themselves, atomically, instead of
  // the opener reserving ranges ahead: two processes never seal under one
  // nonce. `at_least` is the opener's own next number (a reservation made
  // before the store was shared is never reused).
  virtual bool allocates_sequences() const { return false; }
  virtual Expected<std::uint64_t> allocate_sequence(ByteSpan kid, std::uint32_t epoch, std::uint64_t at_least) {
    (void)kid, (void)epoch, (void)at_least;
    return fail("this state store does not hand out sequence numbers");
  }
};

// Atomic replace (temp file, fsync, rename, fsync dir) with mode 0600.
class FileStateStore final : public StateStore {
 public:
  explicit FileStateStore(std::filesystem::path path) : path_(std::move(path)) {}
  Status save(ByteSpan state) override;
  // The stored bytes, or an error if missing or unreadable.
  Expected<Bytes> load() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Keeps the last saved state in memory (tests, benchmarks, simulations).
class MemoryStateStore final : public StateStore {
 public:
  Status save(ByteSpan state) override {
    ++saves_;
    if (fail_) return fail("store unavailable");
    data_.assign(state.begin(), state.end());
    return {};
  }
  const Bytes& data() const { return data_; }
  std::size_t saves() const { return saves_; }
  void set_failing(bool f) { fail_ = f; }

 private:
  Bytes data_;
  std::size_t saves_ = 0;
  bool fail_ = false;
};

}  // namespace armored::e3
