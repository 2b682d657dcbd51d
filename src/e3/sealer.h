#pragma once
// Device side of E3: seals readings for the cloud, opens the cloud's
// commands, starts and rotates epochs, and persists its sequence reservation
// before it uses a number beyond it, so no nonce is ever reused.

#include <chrono>
#include <optional>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/rng.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/epoch.h"
#include "e3/error.h"
#include "e3/replay_window.h"
#include "e3/state_store.h"
#include "e3/wire.h"

namespace armored::e3 {

struct SealerConfig {
  Bytes kid;                                   // 1..8 bytes, assigned at provisioning
  crypto::AeadAlg alg = crypto::AeadAlg::kAes128Gcm;  // see crypto::default_aead()
  Bytes cloud_key_id;                          // names the cloud's static E3 key (1..32 bytes)
  std::chrono::seconds rotation_interval{24 * 3600};
  std::uint64_t rotation_messages = 1u << 20;  // new epoch after this many readings
  std::uint64_t reserve_ahead = 256;           // sequence numbers reserved per state write
  std::size_t max_plaintext = 1024;
  std::size_t replay_window = 64;              // for commands
};

struct OpenedCommand {
  std::uint32_t epoch;
  std::uint64_t sequence;
  std::size_t plaintext_size;
};

class Sealer {
 public:
  // A device without an epoch; call start_epoch() before seal().
  static E3Result<Sealer> create(SealerConfig config, crypto::EcPrivateKey identity_key,
                                 crypto::EcPublicKey cloud_public_key, Clock& clock, Rng& rng, StateStore& store);
  // Resumes from bytes a StateStore saved. The next sequence number is the
  // persisted reservation, so numbers possibly used before a crash are skipped.
  E3Result<void> restore(ByteSpan state);

  // Starts epoch current+1: fresh ephemeral key, ECDH with the cloud key,
  // new keys; persists the new state, erases the old keys and the ephemeral
  // private key, and returns the signed announcement to send before the
  // first envelope of the epoch.
  E3Result<Bytes> start_epoch();
  // The announcement of the current epoch (to re-send if it may be lost).
  const Bytes& announcement() const { return announcement_; }
  // True when the epoch is older than rotation_interval or has sealed
  // rotation_messages readings; seal() then returns kRotationRequired.
  bool rotation_due() const;

  // Seals one reading into out_ (sealed_size() bytes) and returns its size.
  // Allocation-free except when a new reservation is persisted.
  E3Result<std::size_t> seal(ByteSpan plaintext, MutableByteSpan out_);
  // Opens a command envelope from the cloud into out_.
  E3Result<OpenedCommand> open_command(ByteSpan envelope, MutableByteSpan out_);

  // Exact size of the next sealed envelope for a plaintext of this size.
  std::size_t sealed_size(std::size_t plaintext_size) const;
  Bytes serialize() const;

  bool has_epoch() const { return keys_.has_value(); }
  std::uint32_t epoch() const { return keys_ ? keys_->epoch() : last_epoch_; }
  std::uint64_t next_sequence() const { return next_seq_; }
  std::uint64_t reserved_until() const { return reserved_until_; }
  const SealerConfig& config() const { return config_; }

 private:
  Sealer(SealerConfig config, crypto::EcPrivateKey identity, crypto::EcPublicKey cloud, Clock& clock, Rng& rng,
         StateStore& store);
  Bytes serialize_with(const EpochSecrets* secrets, std::int64_t started_at, std::uint64_t reserved,
                       const ReplayWindow& window, ByteSpan announcement) const;
  E3Result<crypto::EcPrivateKey> ephemeral_key();

  SealerConfig config_;
  crypto::EcPrivateKey identity_;
  crypto::EcPublicKey cloud_;
  Clock* clock_;
  Rng* rng_;
  StateStore* store_;
  std::optional<EpochKeys> keys_;
  std::uint32_t last_epoch_ = 0;
  std::int64_t epoch_started_ = 0;  // unix seconds
  std::uint64_t next_seq_ = 0;
  std::uint64_t reserved_until_ = 0;  // exclusive: numbers below it are on disk
  ReplayWindow window_;
  Bytes announcement_;
};

}  // namespace armored::e3
