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
#include <deque>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "crypto/aead.h"
#include "e3/opener.h"
#include "store/store.h"
#include "tls/ticket_keys.h"

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
  Bytes seal(ByteSpan kid, ByteSpan entry) { return seal_labeled(kEntryLabel, kid, entry); }
  Expected<Bytes> open_entry(ByteSpan kid, ByteSpan sealed) const;

  // Other secrets the roles share under the same key (ticket keys), bound
  // to a label and an id so one kind can never be passed off as another.
  Bytes seal_labeled(std::string_view label, ByteSpan id, ByteSpan data);
  std::optional<Bytes> open_labeled(std::string_view label, ByteSpan id, ByteSpan sealed) const;

 private:
  static constexpr std::string_view kEntryLabel = "armored e3 state v1";
  explicit SharedE3State(crypto::AeadContext aead) : aead_(std::move(aead)) {}
  std::size_t restore(e3::Opener& opener, const std::vector<store::E3DeviceState>& entries, bool only_newer);

  crypto::AeadContext aead_;
};

// The fronts' command sequence numbers (e3/state_store.h): each one from the
// database, atomically, so two fronts never seal under one nonce. Used on
// the network thread only, with a store connection of its own.
// The fronts' TLS ticket keys in PostgreSQL (table tls_ticket_keys),
// sealed under the shared state key: a gateway that moves to another front
// resumes there. Called by the TLS ticket callbacks under the ring's lock,
// so its store connection is used by one thread at a time.
class SharedTicketKeys final : public tls::TicketKeySource {
 public:
  SharedTicketKeys(std::unique_ptr<store::Store> store, SharedE3State& sealer)
      : store_(std::move(store)), sealer_(sealer) {}
  std::optional<std::deque<tls::TicketKey>> load() override;
  std::optional<std::deque<tls::TicketKey>> rotate(const tls::TicketKey& candidate, Clock::TimePoint due_before,
                                                   Clock::TimePoint retired_before) override;

 private:
  std::optional<std::deque<tls::TicketKey>> open_all(const std::vector<store::SealedTicketKey>& rows);
  std::unique_ptr<store::Store> store_;
  SharedE3State& sealer_;
};

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
