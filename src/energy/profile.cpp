#include "energy/profile.h"

#include <filesystem>

#include "common/file_io.h"
#include "config/toml_reader.h"
#include "energy/internal/builtin_profiles.h"

namespace armored::energy {

std::string_view aead_name(Aead a) {
  switch (a) {
    case Aead::kAes128Gcm: return "aes-128-gcm";
    case Aead::kAes256Gcm: return "aes-256-gcm";
    case Aead::kChaCha20Poly1305: return "chacha20-poly1305";
    case Aead::kAesCcm16_64_128: return "aes-ccm-16-64-128";
  }
  return "?";
}

Result<Aead, Error> parse_aead(std::string_view name) {
  for (Aead a : kAllAeads) {
    if (aead_name(a) == name) return a;
  }
  return fail("unknown AEAD '" + std::string(name) +
              "' (expected aes-128-gcm, aes-256-gcm, chacha20-poly1305 or aes-ccm-16-64-128)");
}

unsigned aead_tag_bytes(Aead a) { return a == Aead::kAesCcm16_64_128 ? 8 : 16; }

namespace {
constexpr double kBig = 1e9;
}  // namespace

Expected<Profile> parse_profile(std::string_view toml_text, std::string_view source_name) {
  auto doc = config::TomlDocument::parse(toml_text, std::string(source_name));
  if (!doc) return unexpected(doc.error());
  ARMORED_TRY(doc->reject_unknown_sections({"power", "radio", "crypto"}));
  Profile p;
  auto root = doc->section("");
  ARMORED_TRY(root.get("name", p.name));
  ARMORED_TRY(root.get("description", p.description));
  ARMORED_TRY(root.reject_unknown_keys());

  auto power = doc->section("power");
  ARMORED_TRY(power.get("battery_voltage_v", p.battery_voltage_v, 0.5, 60));
  ARMORED_TRY(power.get("supply_voltage_v", p.supply_voltage_v, 0.5, 60));
  ARMORED_TRY(power.get("cpu_current_ma", p.cpu_current_ma, 0.001, 10000));
  ARMORED_TRY(power.get("sleep_current_ua", p.sleep_current_ua, 0, kBig));
  ARMORED_TRY(power.get("connected_idle_current_ua", p.connected_idle_current_ua, 0, kBig));
  ARMORED_TRY(power.reject_unknown_keys());

  auto radio = doc->section("radio");
  ARMORED_TRY(radio.get("data_rate_kbps", p.data_rate_kbps, 0.001, kBig));
  ARMORED_TRY(radio.get("tx_current_ma", p.tx_current_ma, 0, 10000));
  ARMORED_TRY(radio.get("rx_current_ma", p.rx_current_ma, 0, 10000));
  ARMORED_TRY(radio.get("per_message_uj", p.per_message_uj, 0, kBig));
  std::int64_t framing = 0;
  ARMORED_TRY(radio.get("framing_bytes", framing, 0, 65535));
  p.framing_bytes = static_cast<unsigned>(framing);
  ARMORED_TRY(radio.get("rtt_ms", p.rtt_ms, 0, 600000));
  ARMORED_TRY(radio.reject_unknown_keys());

  auto crypto = doc->section("crypto");
  for (Aead a : kAllAeads) {
    std::string base(aead_name(a));
    for (auto& c : base) {
      if (c == '-') c = '_';
    }
    auto& cost = p.aead[static_cast<std::size_t>(a)];
    ARMORED_TRY(crypto.get(base + "_uj_per_byte", cost.uj_per_byte, 0, kBig));
    ARMORED_TRY(crypto.get(base + "_uj_per_message", cost.uj_per_message, 0, kBig));
  }
  ARMORED_TRY(crypto.get("record_layer_uj", p.record_layer_uj, 0, kBig));
  ARMORED_TRY(crypto.get("ecdhe_ms", p.ecdhe_ms, 0, 600000));
  ARMORED_TRY(crypto.get("ecdsa_sign_ms", p.ecdsa_sign_ms, 0, 600000));
  ARMORED_TRY(crypto.get("ecdsa_verify_ms", p.ecdsa_verify_ms, 0, 600000));
  ARMORED_TRY(crypto.get("hkdf_ms", p.hkdf_ms, 0, 600000));
  std::string aead = "aes-128-gcm";
  ARMORED_TRY(crypto.get_optional_choice("default_aead", aead,
                                         {"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305",
                                          "aes-ccm-16-64-128"}));
  p.default_aead = *parse_aead(aead);
  ARMORED_TRY(crypto.reject_unknown_keys());
  return p;
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const auto& b : builtin_profiles()) names.emplace_back(b.name);
  return names;
}

Expected<Profile> load_profile(std::string_view name_or_path) {
  for (const auto& b : builtin_profiles()) {
    if (b.name == name_or_path) return parse_profile(b.toml, b.name);
  }
  std::filesystem::path path(name_or_path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::string names;
    for (const auto& n : builtin_profile_names()) names += (names.empty() ? "" : ", ") + n;
    return fail("no profile named '" + std::string(name_or_path) + "' (shipped: " + names +
                "; or give a path to a .toml file)");
  }
  auto text = read_text_file(path, 1u << 20);
  if (!text) return unexpected(text.error());
  return parse_profile(*text, path.string());
}

}  // namespace armored::energy
