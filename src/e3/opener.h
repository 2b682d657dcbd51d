#pragma once
// Cloud side of E3: accepts epoch announcements from registered devices,
// opens their envelopes (replay window per device per epoch, previous epoch
// honoured for a grace period) and seals commands back to them.
//
// Sans-I/O except for the command-sequence reservation (StateStore). The
// caller persists serialize() after accepted announcements.
//
// The replay window records what is durably received, not what was opened:
// open() checks it but never marks it, and the caller marks a sequence
// number with mark_received() once the reading is stored (or found stored
// already). A crash or a failed commit between the two therefore leaves the
// number unmarked, and the re-sent envelope is opened again instead of being
// refused as a replay of something that was never kept (docs/e3-protocol.md
// section 7.4, docs/reliability.md).

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/ec.h"
#include "e3/epoch.h"
#include "e3/error.h"
#include "e3/replay_window.h"
#include "e3/state_store.h"
#include "e3/wire.h"

namespace armored::cbor {
struct Item;
class Writer;
}  // namespace armored::cbor

namespace armored::e3 {

struct OpenerConfig {
  Bytes cloud_key_id;                                 // must match announcements
  std::size_t replay_window = 64;                     // per device per epoch, 1..1024
  std::chrono::seconds grace_period{3600};            // previous epoch stays valid this long
  std::chrono::seconds epoch_lifetime{25 * 3600};     // an epoch's keys expire this long after acceptance
  std::size_t max_plaintext = 1024;
  std::uint64_t reserve_ahead = 256;                  // command sequence numbers per state write
};

// The cloud-side registry entry: pseudonym -> real identity and its key.
struct DeviceRecord {
  Bytes kid;
  std::string device_id;
  crypto::EcPublicKey identity_key;
};

struct OpenedReading {
  std::string_view device_id;  // valid while the device stays registered
  std::uint32_t epoch;
  std::uint64_t sequence;
  crypto::AeadAlg alg;
  std::size_t plaintext_size;
  // Left of the replay window: authentic, but the window no longer knows
  // whether it was received before. Whoever stores it decides by the
  // reading's identity (device, epoch, sequence); it is never refused for
  // lateness alone within its epoch.
  bool below_window = false;
};

struct AcceptedEpoch {
  std::string_view device_id;
  std::uint32_t epoch;
  crypto::AeadAlg alg;
  bool duplicate;  // the same announcement again: nothing changed
  ByteSpan kid;    // valid while the device stays registered
};

struct OpenerCounters {
  std::uint64_t opened = 0;
  std::uint64_t below_window = 0;  // opened although left of the replay window
  std::uint64_t announcements = 0;
  std::array<std::uint64_t, kE3ErrcCount> rejected{};  // indexed by E3Errc
  std::uint64_t rejected_for(E3Errc c) const { return rejected[static_cast<std::size_t>(c)]; }
};

class Opener {
 public:
  // command_store may be null when the cloud never sends commands
  // (seal_command() then fails with kBadConfig).
  static E3Result<Opener> create(OpenerConfig config, crypto::EcPrivateKey cloud_key, Clock& clock,
                                 StateStore* command_store);

  // Registers a device (from the provisioning database). kBadConfig on a bad or duplicate kid.
  E3Result<void> add_device(DeviceRecord record);

  // Verifies an announcement and installs the epoch. kStaleAnnouncement for an
  // epoch not newer than the current one (a replay cannot roll keys back).
  E3Result<AcceptedEpoch> accept_announcement(ByteSpan message);

  // Opens a reading into out_. Allocation-free. kReplayed when the window
  // holds the sequence number as received (checked before the AEAD, so a
  // flood of replays costs no decryption). Does not mark the window.
  E3Result<OpenedReading> open(ByteSpan envelope, MutableByteSpan out_);

  // Records (kid, epoch, seq) as durably received: call once the reading
  // opened by open() is stored or was found stored. Unknown devices and
  // epochs no longer held are ignored (nothing to protect any more).
  void mark_received(ByteSpan kid, std::uint32_t epoch, std::uint64_t seq);

  // Seals a command for the device's current epoch into out_; returns its size.
  E3Result<std::size_t> seal_command(ByteSpan kid, ByteSpan plaintext, MutableByteSpan out_);

  Bytes serialize() const;
  // Restores epochs, windows and reservations of registered devices (add them first).
  E3Result<void> restore(ByteSpan state);
  // One device's entry of serialize() (empty if the kid is unknown): what an
  // announcement or a command reservation changed, so persistence can cost
  // one device rather than the whole fleet.
  Bytes serialize_device(ByteSpan kid) const;
  // Replaces one registered device's state with an entry from serialize_device()
  // (an unregistered kid is ignored, as in restore()).
  E3Result<void> restore_device(ByteSpan entry);

  const OpenerCounters& counters() const { return counters_; }
  // Current epoch number of a device, if any.
  std::optional<std::uint32_t> current_epoch(ByteSpan kid) const;

 private:
  struct Slot {
    Slot(EpochKeys k, std::size_t window_size) : keys(std::move(k)), window(window_size) {}
    EpochKeys keys;
    std::array<std::uint8_t, crypto::kP256PointSize> ephemeral_public{};
    std::int64_t expires_at = 0;  // unix seconds
    ReplayWindow window;
    std::uint64_t command_next = 0;
    std::uint64_t command_reserved = 0;
  };
  struct Device {
    DeviceRecord record;
    std::uint32_t highest_epoch = 0;
    std::optional<Slot> current;
    std::optional<Slot> previous;
  };

  Opener(OpenerConfig config, crypto::EcPrivateKey cloud_key, Clock& clock, StateStore* store);
  E3Result<OpenedReading> open_impl(ByteSpan envelope, MutableByteSpan out_);
  E3Result<AcceptedEpoch> accept_impl(ByteSpan message);
  template <typename T>
  E3Result<T> count(E3Result<T> r);
  void write_device(cbor::Writer& w, const Device& dev) const;
  E3Result<void> restore_entry(const cbor::Item& entry);
  Status persist_reservation(const Device& dev);

  OpenerConfig config_;
  crypto::EcPrivateKey cloud_key_;
  Clock* clock_;
  StateStore* store_;
  // Hashed, not ordered: open() looks a kid up for every envelope, and a
  // fleet has thousands. serialize() sorts by kid so its output is stable.
  struct KidHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view kid) const { return std::hash<std::string_view>{}(kid); }
  };
  std::unordered_map<std::string, Device, KidHash, std::equal_to<>> devices_;  // key: kid bytes
  OpenerCounters counters_;
};

}  // namespace armored::e3
