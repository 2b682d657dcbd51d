#pragma once
// The E3 enrolment registry: which pseudonymous key ID (kid) each device
// uses, and which cloud E3 key the fleet seals for. The cloud loads it to
// map kids back to identities; devices (and the fleet simulator) load it to
// know their own kid. The kid is all a gateway ever sees of a device.
//
// Layout of an E3 directory (written by `armored enroll`):
//   cloud-e3.key   the cloud's static E3 private key (PKCS#8 PEM, 0600)
//   cloud-e3.pub   its public half (SPKI PEM), given to devices
//   registry.json  {"version":1, "cloud_key_id":"<hex>", "devices":[{"id":..., "kid":"<hex>"}]}

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace armored::provision {

inline constexpr std::size_t kMaxRegistryBytes = 64u << 20;
inline constexpr std::size_t kMaxDevices = 1'000'000;

struct Enrolment {
  std::string device_id;
  Bytes kid;
};

struct Registry {
  Bytes cloud_key_id;  // names cloud-e3.key (first 8 bytes of SHA-256 of its SPKI)
  std::vector<Enrolment> devices;

  const Enrolment* find_device(std::string_view id) const;
};

// Parses and validates registry JSON: version 1, hex kids of 1..8 bytes,
// unique kids and ids, valid identity ids. Errors name the entry.
Expected<Registry> parse_registry(std::string_view json, const std::string& source);
Expected<Registry> load_registry(const std::filesystem::path& e3_dir);
std::string serialize_registry(const Registry& r);

std::filesystem::path registry_path(const std::filesystem::path& e3_dir);
std::filesystem::path cloud_key_path(const std::filesystem::path& e3_dir);
std::filesystem::path cloud_public_key_path(const std::filesystem::path& e3_dir);

}  // namespace armored::provision
