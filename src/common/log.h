#pragma once
// Logging through spdlog. Rule: never pass key material, tickets or
// plaintext readings to a log call; log identities, sizes and reasons.

#include <spdlog/spdlog.h>

#include <string_view>

namespace armored {

// Sets up the process-wide logger writing to stderr at `level`
// ("trace", "debug", "info", "warn", "error", "off").
void init_logging(std::string_view level = "info");

}  // namespace armored
