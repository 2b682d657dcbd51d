#pragma once
// `armored audit code`: the disabled-validation and plaintext pitfalls in
// device and gateway source trees.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "audit/report.h"

namespace armored::audit {

struct CodeOptions {
  std::uint64_t max_file_bytes = 16u << 20;  // files are scanned up to this many bytes
  std::size_t max_line_bytes = 64u << 10;
};

// Scans the source files (by extension) under `roots`.
Report scan_code(const std::vector<std::filesystem::path>& roots, const CodeOptions& options);

}  // namespace armored::audit
