#include "cloud/internal/e3_receiver.h"

#include "common/file_io.h"
#include "crypto/ec.h"
#include "pki/pki.h"

namespace armored::cloud {

Expected<e3::Opener> load_opener(const CloudConfig& config, const provision::Registry& registry, Clock& clock,
                                 e3::StateStore* state_store) {
  auto key_pem = read_text_file(provision::cloud_key_path(config.e3_dir), 64 * 1024);
  if (!key_pem) return unexpected(key_pem.error());
  auto key = crypto::EcPrivateKey::from_pem(*key_pem);
  if (!key) return fail(provision::cloud_key_path(config.e3_dir).string() + " is not a P-256 private key");
  e3::OpenerConfig oc;
  oc.cloud_key_id = registry.cloud_key_id;
  oc.replay_window = config.replay_window;
  oc.grace_period = config.epoch_grace;
  auto opener = e3::Opener::create(oc, *key, clock, state_store);
  if (!opener) return fail("E3 opener", opener.error());
  for (const auto& d : registry.devices) {
    const std::filesystem::path cert = config.pki_dir / "device" / (d.device_id + ".crt");
    auto pem = read_text_file(cert, 64 * 1024);
    if (!pem) return unexpected(pem.error());
    // The key's point, not an OpenSSL key: a million X.509 parses take
    // minutes (docs/pipeline.md, "The cloud's memory"). The point is
    // checked on the curve when an announcement is verified.
    auto point = pki::certificate_p256_point(*pem);
    if (!point) return fail(cert.string() + ": no P-256 public key in the certificate: " + point.error().message);
    if (auto a = opener->add_device(d.kid, d.device_id, *point); !a) {
      return fail("device " + d.device_id, a.error());
    }
  }
  return std::move(*opener);
}

}  // namespace armored::cloud
