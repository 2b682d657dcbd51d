#pragma once
// Hex encoding for vectors, debugging output and the CLI.

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace armored {

std::string to_hex(ByteSpan data);
// Accepts upper or lower case, ignores nothing: whitespace or an odd length
// yields std::nullopt.
std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace armored
