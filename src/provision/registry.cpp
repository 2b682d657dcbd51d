#include "provision/registry.h"

#include <nlohmann/json.hpp>

#include <set>

#include "common/file_io.h"
#include "common/hex.h"
#include "pki/pki.h"

namespace armored::provision {

const Enrolment* Registry::find_device(std::string_view id) const {
  for (const auto& d : devices) {
    if (d.device_id == id) return &d;
  }
  return nullptr;
}

std::filesystem::path registry_path(const std::filesystem::path& dir) { return dir / "registry.json"; }
std::filesystem::path cloud_key_path(const std::filesystem::path& dir) { return dir / "cloud-e3.key"; }
std::filesystem::path cloud_public_key_path(const std::filesystem::path& dir) {
  return dir / "cloud-e3.pub";
}

Expected<Registry> parse_registry(std::string_view text, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(source + ": not a JSON object");
  if (!j.contains("version") || j["version"] != 1) return fail(source + ": version must be 1");
  Registry r;
  if (!j.contains("cloud_key_id") || !j["cloud_key_id"].is_string()) {
    return fail(source + ": cloud_key_id is missing");
  }
  auto ckid = from_hex(j["cloud_key_id"].get<std::string>());
  if (!ckid || ckid->empty() || ckid->size() > 32) {
    return fail(source + ": cloud_key_id must be 1..32 bytes of hex");
  }
  r.cloud_key_id = *ckid;
  if (!j.contains("devices") || !j["devices"].is_array()) return fail(source + ": devices is missing");
  const auto& devs = j["devices"];
  if (devs.size() > kMaxDevices) return fail(source + ": more than 1,000,000 devices");
  std::set<std::string> ids;
  std::set<Bytes> kids;
  std::size_t n = 0;
  for (const auto& d : devs) {
    std::string where = source + ": devices[" + std::to_string(n++) + "]";
    if (!d.is_object() || !d.contains("id") || !d["id"].is_string() || !d.contains("kid") ||
        !d["kid"].is_string()) {
      return fail(where + " needs string fields id and kid");
    }
    Enrolment e;
    e.device_id = d["id"].get<std::string>();
    if (auto v = pki::validate_id(e.device_id); !v) return fail(where, v.error());
    auto kid = from_hex(d["kid"].get<std::string>());
    if (!kid || kid->empty() || kid->size() > 8) return fail(where + ": kid must be 1..8 bytes of hex");
    e.kid = *kid;
    if (!ids.insert(e.device_id).second) return fail(where + ": device " + e.device_id + " enrolled twice");
    if (!kids.insert(e.kid).second) return fail(where + ": kid " + to_hex(e.kid) + " used twice");
    r.devices.push_back(std::move(e));
  }
  return r;
}

Expected<Registry> load_registry(const std::filesystem::path& e3_dir) {
  auto text = read_text_file(registry_path(e3_dir), kMaxRegistryBytes);
  if (!text) return unexpected(text.error());
  return parse_registry(*text, registry_path(e3_dir).string());
}

std::string serialize_registry(const Registry& r) {
  nlohmann::json j;
  j["version"] = 1;
  j["cloud_key_id"] = to_hex(r.cloud_key_id);
  j["devices"] = nlohmann::json::array();
  for (const auto& d : r.devices) j["devices"].push_back({{"id", d.device_id}, {"kid", to_hex(d.kid)}});
  return j.dump(1) + "\n";
}

}  // namespace armored::provision
