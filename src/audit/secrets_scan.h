#pragma once
// `armored audit secrets`: hard-coded credentials in source trees and binary
// images. Text files are read line by line, binaries through the bounded
// strings/DER reader; nothing is read whole into memory.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "audit/report.h"
#include "audit/secret_rules.h"

namespace armored::audit {

struct SecretsOptions {
  std::uint64_t max_file_bytes = 64u << 20;  // files are scanned up to this many bytes
  std::size_t max_line_bytes = 64u << 10;    // longer lines are scanned in pieces
};

// Scans every file under `roots`; the report carries findings and counters.
Report scan_secrets(const std::vector<std::filesystem::path>& roots, const SecretsOptions& options);

// Which rule set applies to a file, from its name.
TextKind text_kind_for(const std::filesystem::path& path);

}  // namespace armored::audit
