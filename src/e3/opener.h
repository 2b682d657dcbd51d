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
//
// Memory: a device costs its id, kid, identity key as a 65-byte point and,
// per epoch held, the epoch's keys as bytes with its replay window (about
// 0.5 KiB). OpenSSL objects are built when needed: the identity key's for
// verifying an announcement, AEAD contexts for the `keyed_epochs` most
// recently used epochs (the least recently used is re-keyed for the next).
// Opening for a device outside them costs one key schedule, never a
// different answer: windows and epochs stay resident (docs/pipeline.md,
// "The cloud's memory").

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
namespace internal {
class AeadCache;
}  // namespace internal

struct OpenerConfig {
  Bytes cloud_key_id;                                 // must match announcements
  std::size_t replay_window = 64;                     // per device per epoch, 1..1024
  std::chrono::seconds grace_period{3600};            // previous epoch stays valid this long
  std::chrono::seconds epoch_lifetime{25 * 3600};     // an epoch's keys expire this long after acceptance
  std::size_t max_plaintext = 1024;
  std::uint64_t reserve_ahead = 256;                  // command sequence numbers per state write
  // Epochs whose AEAD contexts stay keyed (about 1 KiB each); the least
  // recently used is re-keyed for the next. At least 1.
  std::size_t keyed_epochs = 16384;
};

// The cloud-side registry entry: pseudonym -> real identity and its key.
// The opener keeps the key as its point only.
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
  Opener(Opener&&);
  Opener& operator=(Opener&&);
  ~Opener();

  // Registers a device (from the provisioning database). kBadConfig on a bad or duplicate kid.
  E3Result<void> add_device(DeviceRecord record);
  // The same with the identity key as its uncompressed SEC1 point (as read
  // from a certificate without building a key): kBadConfig if not of that
  // form; whether it is on the curve is checked with each announcement.
  E3Result<void> add_device(ByteSpan kid, std::string device_id,
                            const std::array<std::uint8_t, crypto::kP256PointSize>& identity_point);

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
  // Epochs with keyed AEAD contexts now (at most config keyed_epochs), and
  // how often an open or seal had to key one.
  std::size_t keyed_epochs() const;
  std::uint64_t keyings() const;

 private:
  // One epoch held for a device; on the heap, so a device without its
  // previous (or any) epoch pays a null pointer for it.
  struct Slot {
    Slot(EpochMaterial k, std::size_t window_size) : keys(std::move(k)), window(window_size) {}
    EpochMaterial keys;
    std::array<std::uint8_t, crypto::kP256PointSize> ephemeral_public{};
    std::int64_t expires_at = 0;  // unix seconds
    ReplayWindow window;
    std::uint64_t command_next = 0;
    std::uint64_t command_reserved = 0;
    std::uint32_t contexts_index = UINT32_MAX;  // its entry in contexts_, if still its own
    std::uint64_t contexts_tag = 0;
  };
  struct Device {
    std::string device_id;
    std::array<std::uint8_t, crypto::kP256PointSize> identity_point{};  // uncompressed SEC1
    std::array<std::uint8_t, kMaxKidSize> kid_bytes{};
    std::uint8_t kid_size = 0;
    std::uint32_t highest_epoch = 0;
    std::unique_ptr<Slot> current;
    std::unique_ptr<Slot> previous;
    ByteSpan kid() const { return {kid_bytes.data(), kid_size}; }
  };

  Opener(OpenerConfig config, crypto::EcPrivateKey cloud_key, Clock& clock, StateStore* store);
  E3Result<OpenedReading> open_impl(ByteSpan envelope, MutableByteSpan out_);
  E3Result<AcceptedEpoch> accept_impl(ByteSpan message);
  template <typename T>
  E3Result<T> count(E3Result<T> r);
  void write_device(cbor::Writer& w, const Device& dev) const;
  E3Result<void> restore_entry(const cbor::Item& entry);
  Status persist_reservation(const Device& dev);
  Device* find(ByteSpan kid);
  const Device* find(ByteSpan kid) const;
  void index_insert(std::uint32_t device);
  // The slot's keyed AEAD context for a direction (null if keying failed).
  const crypto::AeadContext* aead(Slot& slot, MessageType direction);
  // Drops a slot, and its keyed contexts with it.
  void release(std::unique_ptr<Slot>& slot);

  OpenerConfig config_;
  crypto::EcPrivateKey cloud_key_;
  Clock* clock_;
  StateStore* store_;
  // Devices in the order added (a deque: their ids and kids are handed out
  // as views, so they never move). serialize() sorts by kid so its output
  // is stable.
  std::deque<Device> devices_;
  // kid -> index into devices_: open addressing with linear probing, a
  // power-of-two size at most half full. open() looks a kid up for every
  // envelope; 8 bytes per device, against about 70 for a hashed map's node.
  std::vector<std::uint32_t> index_;
  std::unique_ptr<internal::AeadCache> contexts_;
  OpenerCounters counters_;
};

}  // namespace armored::e3
