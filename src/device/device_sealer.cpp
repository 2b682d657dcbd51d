#include "device/device_sealer.h"

#include <system_error>

#include "common/file_io.h"
#include "crypto/cpu.h"
#include "device/internal/sdk_sealer.h"

namespace armored::device {

namespace fs = std::filesystem;

Expected<FleetKeys> load_fleet_keys(const fs::path& e3_dir, std::size_t devices, const std::string& aead) {
  crypto::AeadAlg alg = crypto::default_aead();
  if (aead == "aes-128-gcm") alg = crypto::AeadAlg::kAes128Gcm;
  else if (aead == "aes-256-gcm") alg = crypto::AeadAlg::kAes256Gcm;
  else if (aead == "chacha20-poly1305") alg = crypto::AeadAlg::kChaCha20Poly1305;
  else if (aead == "aes-ccm-16-64-128") alg = crypto::AeadAlg::kAesCcm16_64_128;
  else if (!aead.empty()) return fail("unknown AEAD '" + aead + "'");

  auto registry = provision::load_registry(e3_dir);
  if (!registry) return unexpected(registry.error());
  if (registry->devices.size() < devices) {
    return fail("only " + std::to_string(registry->devices.size()) + " devices are enrolled in " + e3_dir.string() +
                "; run `armored pki fleet` and `armored enroll` for more");
  }
  const fs::path pub_path = provision::cloud_public_key_path(e3_dir);
  auto cloud_pem = read_text_file(pub_path, 64 * 1024);
  if (!cloud_pem) return unexpected(cloud_pem.error());
  auto cloud_pub = crypto::EcPublicKey::from_pem(*cloud_pem);
  if (!cloud_pub) return fail(pub_path.string() + " is not a P-256 public key");
  return FleetKeys{std::move(*registry), std::move(*cloud_pub), alg};
}

std::string_view sealer_name(SealerKind k) { return k == SealerKind::kCxx ? "cxx" : "device-sdk"; }

std::optional<SealerKind> parse_sealer(std::string_view name) {
  if (name == "cxx") return SealerKind::kCxx;
  if (name == "device-sdk") return SealerKind::kDeviceSdk;
  return std::nullopt;
}

fs::path sealer_state_path(SealerKind k, const fs::path& state_dir, const std::string& id) {
  return state_dir / (id + (k == SealerKind::kCxx ? ".e3" : ".e3sdk"));
}

Expected<OpenedDevice> open_device_sealer(SealerKind kind, const FleetKeys& keys, const provision::Enrolment& enrolment,
                                          const fs::path& pki_dir, const fs::path& state_dir, Clock& clock,
                                          Rng& sys_rng) {
  const std::string& id = enrolment.device_id;
  std::error_code ec;
  const SealerKind other = kind == SealerKind::kCxx ? SealerKind::kDeviceSdk : SealerKind::kCxx;
  if (fs::exists(sealer_state_path(other, state_dir, id), ec)) {
    return fail("device " + id + ": " + state_dir.string() + " holds its state from --sealer " +
                std::string(sealer_name(other)) + "; use that sealer or another --state directory (a new sealer " +
                "would start again at epoch 1, which the cloud refuses as stale)");
  }
  auto key_pem = read_text_file(pki_dir / "device" / (id + ".key"), 64 * 1024);
  if (!key_pem) return unexpected(key_pem.error());
  auto key = crypto::EcPrivateKey::from_pem(*key_pem);
  if (!key) return fail("device " + id + ": its key is not a P-256 private key");
  const fs::path state_path = sealer_state_path(kind, state_dir, id);
  Bytes saved;
  if (fs::exists(state_path, ec)) {
    auto bytes = e3::FileStateStore(state_path).load();
    if (!bytes) return unexpected(bytes.error());
    saved = std::move(*bytes);
  }
  OpenedDevice out;
  out.rng = std::make_unique<SeededRng>(sys_rng.next_u64());
  e3::SealerConfig sc;
  sc.kid = enrolment.kid;
  sc.alg = keys.alg;
  sc.cloud_key_id = keys.registry.cloud_key_id;
  if (kind == SealerKind::kCxx) {
    auto store = std::make_unique<e3::FileStateStore>(state_path);
    auto s = e3::Sealer::create(sc, *key, keys.cloud_public, clock, sys_rng, *store);
    if (!s) return fail("device " + id, s.error());
    if (!saved.empty()) {
      if (auto r = s->restore(saved); !r) return fail("device " + id, r.error());
    }
    out.sealer = std::make_unique<CxxSealer>(std::move(store), std::move(*s));
  } else {
    auto sdk = internal::make_sdk_sealer(sc, std::move(*key), keys.cloud_public, clock, state_path, saved);
    if (!sdk) return fail("device " + id, sdk.error());
    out.sealer = std::move(*sdk);
  }
  // Every start is a new epoch (docs/e3-protocol.md 7.1): resuming the old
  // one would skip the numbers between the last used and the reservation,
  // and the cloud could not tell that hole from readings lost on the way.
  // This way every hole in an epoch is a reading the cloud never got.
  if (auto ann = out.sealer->start_epoch(); !ann) return fail("device " + id, ann.error());
  return out;
}

}  // namespace armored::device
