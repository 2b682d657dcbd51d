#pragma once
// Per-epoch key material (docs/e3-protocol.md section 5): the secrets an
// epoch starts from, derived from the ECDH shared secret, and the OSCORE
// keys and common IV for both directions, as bytes (EpochMaterial) or with
// keyed AEAD contexts (EpochKeys).

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/error.h"
#include "e3/framing.h"
#include "e3/oscore.h"
#include "e3/wire.h"

namespace armored::e3 {

inline constexpr std::size_t kMasterSecretSize = 32;
inline constexpr std::size_t kMasterSaltSize = 8;
// OSCORE Sender IDs: fixed per direction; the device's kid is the ID Context.
inline constexpr std::uint8_t kDeviceSenderId = 0x00;
inline constexpr std::uint8_t kCloudSenderId = 0x01;

struct EpochSecrets {
  std::uint32_t epoch = 0;
  crypto::AeadAlg alg = crypto::AeadAlg::kAes128Gcm;
  std::array<std::uint8_t, kMasterSecretSize> master_secret{};
  std::array<std::uint8_t, kMasterSaltSize> master_salt{};

  EpochSecrets() = default;
  EpochSecrets(const EpochSecrets&) = default;
  EpochSecrets& operator=(const EpochSecrets&) = default;
  ~EpochSecrets();
};

// The public inputs bound into an epoch's key derivation.
struct EpochBinding {
  ByteSpan kid;
  std::uint32_t epoch;
  crypto::AeadAlg alg;
  ByteSpan cloud_key_id;
  ByteSpan ephemeral_public;  // 65-byte uncompressed SEC1 point
};

// HKDF-SHA-256 info for the master secret / master salt:
// ["E3 Master Secret" / "E3 Master Salt", kid, epoch, alg, cloud_key_id, ephemeral_public].
Bytes epoch_info(std::string_view label, const EpochBinding& b);

// Master secret and salt from the ECDH shared secret (empty HKDF salt).
E3Result<EpochSecrets> derive_epoch_secrets(ByteSpan shared_secret, const EpochBinding& b);

// An epoch's derived keys as bytes, with its nonce bases and framing: all
// its AEAD contexts are keyed from, without the contexts themselves. An
// OpenSSL context costs about a kilobyte; the cloud holds this for every
// device and keys contexts only for those it hears from (opener.h).
class EpochMaterial {
 public:
  // OSCORE derivation with ID Context = kid, device Sender ID 0x00, cloud Sender ID 0x01.
  static E3Result<EpochMaterial> derive(ByteSpan kid, const EpochSecrets& secrets);

  EpochMaterial(const EpochMaterial&) = default;
  EpochMaterial& operator=(const EpochMaterial&) = default;
  ~EpochMaterial();

  std::uint32_t epoch() const { return secrets_.epoch; }
  crypto::AeadAlg alg() const { return secrets_.alg; }
  const EpochSecrets& secrets() const { return secrets_; }
  std::size_t nonce_size() const { return common_iv_size_; }
  std::size_t tag_size() const { return tag_size_; }

  // The AEAD key of the sender for this direction (uplink: the device's).
  ByteSpan key(MessageType direction) const {
    return {keys_[direction == MessageType::kUplink ? 0 : 1].data(), key_size_};
  }
  // Header and AAD template of this epoch's data envelopes in a direction.
  const DataFraming& framing(MessageType direction) const {
    return framing_[direction == MessageType::kUplink ? 0 : 1];
  }
  // Writes the RFC 8613 5.2 nonce of the direction's sender for seq
  // (seq <= kMaxSequence) into the first nonce_size() bytes of out_.
  void nonce(MessageType direction, std::uint64_t seq, std::array<std::uint8_t, oscore::kMaxNonce>& out_) const {
    // Whole-array copy (a constant size is two moves); bytes past
    // nonce_size() are not part of the nonce.
    out_ = nonce_base_[direction == MessageType::kUplink ? 0 : 1];
    const std::size_t n = common_iv_size_;
    for (std::size_t i = 0; i < 5; ++i) out_[n - 1 - i] ^= static_cast<std::uint8_t>(seq >> (8 * i));
  }

 private:
  EpochMaterial() = default;

  EpochSecrets secrets_;
  std::array<std::uint8_t, oscore::kMaxKey> keys_[2]{};  // uplink (device), downlink (cloud)
  std::uint8_t key_size_ = 0;
  std::uint8_t common_iv_size_ = 0;
  std::uint8_t tag_size_ = 0;
  DataFraming framing_[2];  // uplink, downlink
  // Per direction: the nonce for partial IV 0; a message's nonce XORs its
  // partial IV into the last 5 bytes (RFC 8613 5.2 is linear in the PIV).
  std::array<std::uint8_t, oscore::kMaxNonce> nonce_base_[2]{};
};

// An epoch's material with an AEAD context keyed for each direction, both
// ways: what a device holds for its one epoch.
class EpochKeys {
 public:
  static E3Result<EpochKeys> derive(ByteSpan kid, const EpochSecrets& secrets);

  std::uint32_t epoch() const { return material_.epoch(); }
  crypto::AeadAlg alg() const { return material_.alg(); }
  const EpochSecrets& secrets() const { return material_.secrets(); }
  std::size_t nonce_size() const { return material_.nonce_size(); }
  std::size_t tag_size() const { return material_.tag_size(); }
  const EpochMaterial& material() const { return material_; }

  // The AEAD of the sender for this direction (uplink: device key).
  const crypto::AeadContext& aead(MessageType direction) const {
    return direction == MessageType::kUplink ? device_key_ : cloud_key_;
  }
  const DataFraming& framing(MessageType direction) const { return material_.framing(direction); }
  void nonce(MessageType direction, std::uint64_t seq, std::array<std::uint8_t, oscore::kMaxNonce>& out_) const {
    material_.nonce(direction, seq, out_);
  }

 private:
  EpochKeys(EpochMaterial m, crypto::AeadContext device, crypto::AeadContext cloud)
      : material_(std::move(m)), device_key_(std::move(device)), cloud_key_(std::move(cloud)) {}

  EpochMaterial material_;
  crypto::AeadContext device_key_;
  crypto::AeadContext cloud_key_;
};

}  // namespace armored::e3
