#include "energy/profile.h"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>

#include "common/file_io.h"
#include "energy/builtin_profiles.h"

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

// Reads tables and keys with context so every error names what was wrong.
class Reader {
 public:
  Reader(const toml::table& root, std::string_view source) : root_(root), source_(source) {}

  Status number(std::string_view table, std::string_view key, double& out_, double min,
                double max) {
    auto node = root_[table][key];
    if (!node) return missing(table, key);
    std::optional<double> v = node.value<double>();
    if (!v || !std::isfinite(*v)) return bad(table, key, "is not a number");
    if (*v < min || *v > max) {
      return bad(table, key, "is " + fmt(*v) + ", outside " + fmt(min) + ".." + fmt(max));
    }
    out_ = *v;
    return {};
  }

  Status text(std::string_view table, std::string_view key, std::string& out_) {
    auto node = table.empty() ? root_[key] : root_[table][key];
    if (!node) return missing(table, key);
    auto v = node.value<std::string>();
    if (!v) return bad(table, key, "is not a string");
    out_ = *v;
    return {};
  }

 private:
  static std::string fmt(double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  std::string where(std::string_view table, std::string_view key) const {
    return std::string(source_) + ": " + (table.empty() ? "" : std::string(table) + ".") +
           std::string(key);
  }
  Status missing(std::string_view table, std::string_view key) const {
    return fail(where(table, key) + " is missing");
  }
  Status bad(std::string_view table, std::string_view key, const std::string& why) const {
    return fail(where(table, key) + " " + why);
  }

  const toml::table& root_;
  std::string_view source_;
};

constexpr double kBig = 1e9;

}  // namespace

Expected<Profile> parse_profile(std::string_view toml_text, std::string_view source_name) {
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(source_name));
  } catch (const toml::parse_error& err) {
    return fail(std::string(source_name) + ":" + std::to_string(err.source().begin.line) + ": " +
                std::string(err.description()));
  }
  Reader r(root, source_name);
  Profile p;
  ARMORED_TRY(r.text("", "name", p.name));
  ARMORED_TRY(r.text("", "description", p.description));
  ARMORED_TRY(r.number("power", "battery_voltage_v", p.battery_voltage_v, 0.5, 60));
  ARMORED_TRY(r.number("power", "supply_voltage_v", p.supply_voltage_v, 0.5, 60));
  ARMORED_TRY(r.number("power", "cpu_current_ma", p.cpu_current_ma, 0.001, 10000));
  ARMORED_TRY(r.number("power", "sleep_current_ua", p.sleep_current_ua, 0, kBig));
  ARMORED_TRY(r.number("power", "connected_idle_current_ua", p.connected_idle_current_ua, 0, kBig));
  ARMORED_TRY(r.number("radio", "data_rate_kbps", p.data_rate_kbps, 0.001, kBig));
  ARMORED_TRY(r.number("radio", "tx_current_ma", p.tx_current_ma, 0, 10000));
  ARMORED_TRY(r.number("radio", "rx_current_ma", p.rx_current_ma, 0, 10000));
  ARMORED_TRY(r.number("radio", "per_message_uj", p.per_message_uj, 0, kBig));
  double framing = 0;
  ARMORED_TRY(r.number("radio", "framing_bytes", framing, 0, 65535));
  if (framing != std::floor(framing)) return fail(std::string(source_name) + ": radio.framing_bytes is not a whole number");
  p.framing_bytes = static_cast<unsigned>(framing);
  ARMORED_TRY(r.number("radio", "rtt_ms", p.rtt_ms, 0, 600000));
  for (Aead a : kAllAeads) {
    std::string base(aead_name(a));
    for (auto& c : base) {
      if (c == '-') c = '_';
    }
    auto& cost = p.aead[static_cast<std::size_t>(a)];
    ARMORED_TRY(r.number("crypto", base + "_uj_per_byte", cost.uj_per_byte, 0, kBig));
    ARMORED_TRY(r.number("crypto", base + "_uj_per_message", cost.uj_per_message, 0, kBig));
  }
  ARMORED_TRY(r.number("crypto", "record_layer_uj", p.record_layer_uj, 0, kBig));
  ARMORED_TRY(r.number("crypto", "ecdhe_ms", p.ecdhe_ms, 0, 600000));
  ARMORED_TRY(r.number("crypto", "ecdsa_sign_ms", p.ecdsa_sign_ms, 0, 600000));
  ARMORED_TRY(r.number("crypto", "ecdsa_verify_ms", p.ecdsa_verify_ms, 0, 600000));
  ARMORED_TRY(r.number("crypto", "hkdf_ms", p.hkdf_ms, 0, 600000));
  std::string aead;
  ARMORED_TRY(r.text("crypto", "default_aead", aead));
  auto parsed_aead = parse_aead(aead);
  if (!parsed_aead) return fail(std::string(source_name) + ": crypto.default_aead: " + parsed_aead.error().message);
  p.default_aead = *parsed_aead;
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
