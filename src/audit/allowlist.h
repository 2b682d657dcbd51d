#pragma once
// Allowlist of reviewed findings. One entry per line; '#' starts a comment:
//
//   RULE  PATTERN  [LINE]
//
// RULE is a rule id or '*'. PATTERN is a shell glob (fnmatch, '*' also spans
// '/') matched against the finding's path, or its endpoint for network
// audits. LINE, when given, limits the entry to that line. Independently of
// the file, a source line carrying the marker "armored-audit:allow" is never
// reported by `audit secrets` or `audit code`.

#include <filesystem>
#include <string>
#include <vector>

#include "audit/finding.h"
#include "common/result.h"

namespace armored::audit {

inline constexpr std::string_view kInlineAllowMarker = "armored-audit:allow";

class Allowlist {
 public:
  struct Entry {
    std::string rule;
    std::string pattern;
    std::size_t line = 0;  // 0: any line
  };

  // Parses allowlist text; an error names the first bad line.
  static Expected<Allowlist> parse(std::string_view text);
  static Expected<Allowlist> load(const std::filesystem::path& path);

  bool allows(const Finding& f) const;
  // Removes allowed findings; returns how many were removed.
  std::size_t filter(std::vector<Finding>& findings) const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace armored::audit
