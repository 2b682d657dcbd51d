#pragma once
// The profiles shipped in config/energy/, compiled into the program so
// `armored energy --profile NAME` works from any directory.

#include <span>
#include <string_view>

namespace armored::energy {

struct BuiltinProfile {
  std::string_view name;
  std::string_view toml;
};

std::span<const BuiltinProfile> builtin_profiles();

}  // namespace armored::energy
