#include "device/internal/sdk_sealer.h"

#include <array>

#include "armored_crypto_openssl.h"
#include "armored_device.h"
#include "e3/state_store.h"

namespace armored::device::internal {

namespace {

e3::E3Error to_e3(armored_status s) {
  using e3::E3Errc;
  E3Errc c = E3Errc::kInternal;
  switch (s) {
    case ARMORED_E_MALFORMED: c = E3Errc::kMalformed; break;
    case ARMORED_E_UNKNOWN_KEY_ID: c = E3Errc::kUnknownKeyId; break;
    case ARMORED_E_UNKNOWN_EPOCH: c = E3Errc::kUnknownEpoch; break;
    case ARMORED_E_AUTHENTICATION_FAILED: c = E3Errc::kAuthFailed; break;
    case ARMORED_E_REPLAYED: c = E3Errc::kReplayed; break;
    case ARMORED_E_TOO_OLD: c = E3Errc::kTooOld; break;
    case ARMORED_E_OVERSIZED: c = E3Errc::kOversized; break;
    case ARMORED_E_ROTATION_REQUIRED: c = E3Errc::kRotationRequired; break;
    case ARMORED_E_PERSIST_FAILED: c = E3Errc::kPersistFailed; break;
    case ARMORED_E_BUFFER_TOO_SMALL: c = E3Errc::kBufferTooSmall; break;
    case ARMORED_E_BAD_CONFIG: c = E3Errc::kBadConfig; break;
    default: break;  // crypto backend, or statuses the sealing calls never return
  }
  // The library's names are static strings, as E3Error's messages must be.
  return {c, armored_status_name(s)};
}

// Owns everything the C context points to (backend, platform, the key the
// backend borrows), so it never moves: it lives behind a unique_ptr.
class SdkSealer final : public DeviceSealer {
 public:
  SdkSealer(crypto::EcPrivateKey identity, Clock& clock, std::filesystem::path state_path)
      : identity_(std::move(identity)), clock_(&clock), store_(std::move(state_path)) {
    backend_.identity = identity_.openssl_pkey();  // ephemeral keys from OpenSSL's DRBG, as in src/e3
    crypto_ = armored_crypto_openssl(&backend_);
    platform_.user = this;
    platform_.now = [](void* u) { return unix_seconds(static_cast<SdkSealer*>(u)->clock_->now()); };
    platform_.store = [](void* u, const std::uint8_t* state, std::size_t len) {
      return static_cast<SdkSealer*>(u)->store_.save(ByteSpan(state, len)) ? 0 : -1;
    };
  }
  ~SdkSealer() override {
    armored_wipe(&ctx_);
    armored_crypto_openssl_free(&backend_);
  }
  SdkSealer(const SdkSealer&) = delete;
  SdkSealer& operator=(const SdkSealer&) = delete;

  armored_status init(const e3::SealerConfig& c, const crypto::EcPublicKey& cloud, ByteSpan saved) {
    const auto point = cloud.point();
    armored_config cfg{};
    cfg.kid = c.kid.data();
    cfg.kid_len = c.kid.size();
    cfg.cloud_key_id = c.cloud_key_id.data();
    cfg.cloud_key_id_len = c.cloud_key_id.size();
    cfg.cloud_public_key = point.data();
    cfg.alg = static_cast<armored_aead>(c.alg);  // both enums are the COSE algorithm ids
    cfg.rotation_interval_s = static_cast<std::uint32_t>(c.rotation_interval.count());
    cfg.rotation_messages = static_cast<std::uint32_t>(c.rotation_messages);
    cfg.reserve_ahead = static_cast<std::uint32_t>(c.reserve_ahead);
    cfg.max_plaintext = static_cast<std::uint16_t>(c.max_plaintext);
    return armored_init(&ctx_, &cfg, &crypto_, &platform_, saved.data(), saved.size());
  }

  e3::E3Result<Bytes> start_epoch() override {
    std::array<std::uint8_t, ARMORED_ANNOUNCEMENT_MAX> out{};
    std::size_t n = 0;
    if (auto s = armored_start_epoch(&ctx_, out.data(), out.size(), &n); s != ARMORED_OK) return unexpected(to_e3(s));
    announcement_.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    return announcement_;
  }
  // Kept rather than armored_announcement(), which signs again (an ECDSA
  // signature per re-send); the cloud takes the same bytes as a duplicate.
  const Bytes& announcement() const override { return announcement_; }
  bool rotation_due() const override { return armored_rotation_due(&ctx_) != 0; }
  std::size_t sealed_size(std::size_t plaintext_size) const override {
    return armored_sealed_size(&ctx_, plaintext_size);
  }
  e3::E3Result<std::size_t> seal(ByteSpan plaintext, MutableByteSpan out_) override {
    std::size_t n = 0;
    const armored_status s = armored_seal(&ctx_, plaintext.data(), plaintext.size(), out_.data(), out_.size(), &n);
    if (s != ARMORED_OK) return unexpected(to_e3(s));
    return n;
  }
  e3::E3Result<e3::OpenedCommand> open_command(ByteSpan envelope, MutableByteSpan out_) override {
    std::size_t n = 0;
    std::uint64_t seq = 0;
    const armored_status s =
        armored_open_command(&ctx_, envelope.data(), envelope.size(), out_.data(), out_.size(), &n, &seq);
    if (s != ARMORED_OK) return unexpected(to_e3(s));
    return e3::OpenedCommand{epoch(), seq, n};  // only the current epoch's commands open
  }
  // The context's fields are private to firmware; this wrapper is built with
  // the library, from the same header, and only reads them.
  std::uint32_t epoch() const override { return ctx_.epoch; }
  std::uint64_t next_sequence() const override { return ctx_.next_seq; }

 private:
  crypto::EcPrivateKey identity_;
  Clock* clock_;
  e3::FileStateStore store_;
  armored_openssl_backend backend_{};
  armored_crypto crypto_{};
  armored_platform platform_{};
  armored_ctx ctx_{};
  Bytes announcement_;
};

}  // namespace

Expected<std::unique_ptr<DeviceSealer>> make_sdk_sealer(const e3::SealerConfig& config,
                                                        crypto::EcPrivateKey identity,
                                                        const crypto::EcPublicKey& cloud_public, Clock& clock,
                                                        std::filesystem::path state_path, ByteSpan saved) {
  auto s = std::make_unique<SdkSealer>(std::move(identity), clock, std::move(state_path));
  if (const armored_status st = s->init(config, cloud_public, saved); st != ARMORED_OK) {
    return fail(std::string(saved.empty() ? "bad device SDK configuration: " : "unusable device SDK state: ") +
                armored_status_name(st));
  }
  return std::unique_ptr<DeviceSealer>(std::move(s));
}

}  // namespace armored::device::internal
