#pragma once
// Device energy profiles: the electrical facts of one kind of device that
// the energy model needs. Shipped profiles are compiled in (see
// config/energy/*.toml); a path to a TOML file loads a custom one.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace armored::energy {

enum class Aead { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305, kAesCcm16_64_128 };
inline constexpr std::array<Aead, 4> kAllAeads = {Aead::kAes128Gcm, Aead::kAes256Gcm,
                                                  Aead::kChaCha20Poly1305, Aead::kAesCcm16_64_128};

std::string_view aead_name(Aead a);  // "aes-128-gcm", ...
Result<Aead, Error> parse_aead(std::string_view name);
// Authentication tag length on the wire, in bytes.
unsigned aead_tag_bytes(Aead a);

struct AeadCost {
  double uj_per_byte = 0;
  double uj_per_message = 0;
};

struct Profile {
  std::string name;
  std::string description;
  // [power]
  double battery_voltage_v = 0;
  double supply_voltage_v = 0;
  double cpu_current_ma = 0;
  double sleep_current_ua = 0;
  double connected_idle_current_ua = 0;
  // [radio]
  double data_rate_kbps = 0;
  double tx_current_ma = 0;
  double rx_current_ma = 0;
  double per_message_uj = 0;
  unsigned framing_bytes = 0;
  double rtt_ms = 0;
  // [crypto]
  std::array<AeadCost, 4> aead{};  // indexed by Aead
  double record_layer_uj = 0;
  double ecdhe_ms = 0;
  double ecdsa_sign_ms = 0;
  double ecdsa_verify_ms = 0;
  double hkdf_ms = 0;
  Aead default_aead = Aead::kAes128Gcm;

  const AeadCost& cost(Aead a) const { return aead[static_cast<std::size_t>(a)]; }
};

// Parses a profile from TOML text. Every key is required; an error names the
// key (and line, for syntax errors) and the problem.
Expected<Profile> parse_profile(std::string_view toml_text, std::string_view source_name);

// Loads `name_or_path`: a shipped profile name ("esp32-wifi", "nrf52840-ble")
// or a path to a TOML file.
Expected<Profile> load_profile(std::string_view name_or_path);

// Names of the shipped profiles.
std::vector<std::string> builtin_profile_names();

}  // namespace armored::energy
