#include "provision/enroll.h"

#include <cmath>
#include <set>

#include "common/clock.h"
#include "common/file_io.h"
#include "crypto/ec.h"
#include "crypto/hkdf.h"
#include "pki/pki.h"

namespace armored::provision {
namespace fs = std::filesystem;

namespace {

// The cloud key ID names the key devices seal for: 8 bytes derived from its
// SubjectPublicKeyInfo, so a new cloud key gets a new ID automatically.
Expected<Bytes> cloud_key_id_for(const crypto::EcPublicKey& pub) {
  Bytes id(8);
  Bytes spki = pub.spki_der();
  static constexpr std::string_view kInfo = "armored e3 cloud key id";
  auto r = crypto::hkdf_sha256(spki, {}, as_bytes(kInfo), id);
  if (!r) return fail("cannot derive the cloud key id");
  return id;
}

Expected<crypto::EcPublicKey> ensure_cloud_key(const fs::path& e3_dir, bool& created_) {
  created_ = false;
  std::error_code ec;
  if (fs::exists(cloud_key_path(e3_dir), ec)) {
    auto pem = read_cloud_private_pem(e3_dir);
    if (!pem) return unexpected(pem.error());
    auto key = crypto::EcPrivateKey::from_pem(*pem);
    if (!key) return fail(cloud_key_path(e3_dir).string() + " is not a P-256 private key");
    auto pub = key->public_key();
    if (!pub) return fail("cannot derive the cloud public key");
    return *pub;
  }
  auto key = crypto::EcPrivateKey::generate();
  if (!key) return fail("cannot generate the cloud E3 key");
  auto pub = key->public_key();
  if (!pub) return fail("cannot derive the cloud public key");
  std::string priv_pem = key->to_pem();
  ARMORED_TRY(write_file_exclusive(cloud_key_path(e3_dir), as_bytes(priv_pem), 0600));
  const std::string spki_pem = pub->to_pem();
  ARMORED_TRY(write_file_exclusive(cloud_public_key_path(e3_dir), as_bytes(spki_pem), 0644));
  created_ = true;
  return *pub;
}

}  // namespace

Expected<std::string> read_cloud_private_pem(const fs::path& e3_dir) {
  return read_text_file(cloud_key_path(e3_dir), 64 * 1024);
}

Expected<std::string> read_cloud_public_pem(const fs::path& e3_dir) {
  return read_text_file(cloud_public_key_path(e3_dir), 64 * 1024);
}

Expected<EnrolResult> enrol(const fs::path& pki_dir, const fs::path& e3_dir, const EnrolOptions& options,
                            Rng& rng) {
  if (options.kid_bytes < 1 || options.kid_bytes > 8) return fail("--kid-bytes must be 1..8");
  auto authority = pki::Authority::open(pki_dir, pki::Authority::Access::read_only);
  if (!authority) return fail(authority.error());
  std::vector<std::string> device_ids;
  for (const auto& e : authority->list(SystemClock().now())) {
    if (e.identity.role == pki::Role::device && !e.revoked) device_ids.push_back(e.identity.id);
  }

  std::error_code ec;
  fs::create_directories(e3_dir, ec);
  if (ec) return fail("cannot create " + e3_dir.string() + ": " + ec.message());

  EnrolResult out;
  auto pub = ensure_cloud_key(e3_dir, out.created_cloud_key);
  if (!pub) return unexpected(pub.error());
  auto ckid = cloud_key_id_for(*pub);
  if (!ckid) return unexpected(ckid.error());

  Registry reg;
  if (fs::exists(registry_path(e3_dir), ec)) {
    auto loaded = load_registry(e3_dir);
    if (!loaded) return unexpected(loaded.error());
    if (loaded->cloud_key_id != *ckid) {
      return fail(registry_path(e3_dir).string() + " names another cloud key than cloud-e3.key");
    }
    reg = std::move(*loaded);
  }
  reg.cloud_key_id = *ckid;

  const double space = std::pow(256.0, static_cast<double>(options.kid_bytes));
  if (static_cast<double>(device_ids.size()) > space / 4) {
    return fail("too many devices for " + std::to_string(options.kid_bytes) +
                "-byte key IDs; use --kid-bytes " + std::to_string(options.kid_bytes + 1));
  }
  std::set<Bytes> used;
  std::set<std::string> enrolled;
  for (const auto& d : reg.devices) {
    used.insert(d.kid);
    enrolled.insert(d.device_id);
  }
  for (const auto& id : device_ids) {
    if (enrolled.contains(id)) {
      ++out.already;
      continue;
    }
    // Random pseudonyms: a kid says nothing about the device or its order.
    Bytes kid(options.kid_bytes);
    do {
      rng.fill(kid);
    } while (!used.insert(kid).second);
    reg.devices.push_back({id, kid});
    ++out.enrolled;
  }
  std::string json = serialize_registry(reg);
  // 0600: the registry links each pseudonymous key ID (all a gateway sees)
  // to a device; whoever reads it can tell whose readings pass by.
  ARMORED_TRY(write_file_atomic(registry_path(e3_dir), as_bytes(json), 0600));
  out.registry = std::move(reg);
  return out;
}

}  // namespace armored::provision
