#pragma once
// The profiles shipped in config/energy/, compiled into the program so
// `armored energy --profile NAME` works from any directory; likewise the
// measured crypto costs (config/energy/*.json, `--crypto-costs NAME`).

#include <span>
#include <string_view>

namespace armored::energy {

struct BuiltinProfile {
  std::string_view name;
  std::string_view toml;
};

std::span<const BuiltinProfile> builtin_profiles();

struct BuiltinCryptoCosts {
  std::string_view name;
  std::string_view text;  // JSON, docs/energy.md "Crypto cost files"
};

std::span<const BuiltinCryptoCosts> builtin_crypto_costs();

}  // namespace armored::energy
