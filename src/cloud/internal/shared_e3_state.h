#pragma once
// The E3 receiver state that a scaled cloud's workers share through
// PostgreSQL (docs/scale-out.md, "Shared E3 state"): one entry per device,
// Opener::serialize_device(), sealed with AES-256-GCM under a key the workers
// hold (the database alone never holds epoch keys) and bound to the device's
// key id. A worker writes the entries of the devices whose announcements it
// accepted before it stores their readings; a worker that meets a reading
// of an epoch it does not hold reads that device's entry again.
//
// Replay and duplicate decisions are not shared here: the database's key
// (device, epoch, sequence) makes them, whichever worker stores a reading.

#include <filesystem>
#include <span>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/aead.h"
#include "e3/opener.h"
#include "store/store.h"

namespace armored::cloud {

class SharedE3State {
 public:
  // Reads the 32-byte key (hex, mode 0600), creating it when missing; two
  // workers starting at once end up with the same key (created exclusively).
  static Expected<SharedE3State> open(const std::filesystem::path& key_file);

  // Restores every stored entry of a registered device (at start).
  Expected<std::size_t> load_all(store::Store& store, e3::Opener& opener);
  // Reads these devices' entries again and restores those newer than what
  // `opener` holds; returns how many were restored.
  Expected<std::size_t> refresh(store::Store& store, e3::Opener& opener, std::span<const Bytes> kids);
  // Seals and saves these devices' entries as `opener` holds them now.
  Status save(store::Store& store, const e3::Opener& opener, std::span<const Bytes> kids);

  // The sealed form, for tests: nonce || ciphertext || tag.
  Bytes seal(ByteSpan kid, ByteSpan entry);
  Expected<Bytes> open_entry(ByteSpan kid, ByteSpan sealed) const;

 private:
  explicit SharedE3State(crypto::AeadContext aead) : aead_(std::move(aead)) {}
  std::size_t restore(e3::Opener& opener, const std::vector<store::E3DeviceState>& entries, bool only_newer);

  crypto::AeadContext aead_;
};

// The fronts' command sequence numbers (e3/state_store.h): each one from the
// database, atomically, so two fronts never seal under one nonce. Used on
// the network thread only, with a store connection of its own.
class SharedSequences final : public e3::StateStore {
 public:
  explicit SharedSequences(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}
  Status save(ByteSpan) override { return fail("the fronts' sequence store keeps no whole state"); }
  bool allocates_sequences() const override { return true; }
  Expected<std::uint64_t> allocate_sequence(ByteSpan kid, std::uint32_t epoch, std::uint64_t at_least) override {
    auto n = store_->next_command_sequence(kid, epoch, at_least);
    if (!n) {
      (void)store_->reconnect();
      return fail("command sequence", n.error());
    }
    return *n;
  }
  store::Store& store() { return *store_; }

 private:
  std::unique_ptr<store::Store> store_;
};

}  // namespace armored::cloud
