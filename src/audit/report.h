#pragma once
// A scanner's result and its three renderings: plain text for a person,
// JSON for scripts, SARIF 2.1.0 for code-scanning tools.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/finding.h"

namespace armored::audit {

struct Report {
  std::string command;               // "secrets", "code", "pcap", "tls"
  std::vector<std::string> targets;  // paths, capture file or endpoint
  std::vector<Finding> findings;
  std::vector<RuleInfo> rules;       // every rule the scanner knows (for SARIF)
  std::vector<std::string> summary;  // facts worth a line in the text report
  nlohmann::json details = nlohmann::json::object();  // scanner-specific facts
  std::size_t suppressed = 0;        // findings dropped by an allowlist
};

// Sorts findings: severity (highest first), then path, line, offset.
void sort_findings(Report& report);

std::string render_text(const Report& report);
nlohmann::json render_json(const Report& report);
// SARIF 2.1.0: one run, tool.driver.rules from report.rules, one result per finding.
nlohmann::json render_sarif(const Report& report);

}  // namespace armored::audit
