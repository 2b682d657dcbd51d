#include "audit/finding.h"

#include <algorithm>
#include <cctype>

namespace armored::audit {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto s : {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh,
                 Severity::kCritical}) {
    if (severity_name(s) == lower) return s;
  }
  return std::nullopt;
}

Finding make_finding(const RuleInfo& rule, Location where, std::string evidence,
                     std::string message) {
  Finding f;
  f.rule_id = std::string(rule.id);
  f.severity = rule.severity;
  f.where = std::move(where);
  f.evidence = std::move(evidence);
  f.message = message.empty() ? std::string(rule.title) : std::move(message);
  f.why = std::string(rule.why);
  f.fix = std::string(rule.fix);
  return f;
}

std::string redact(std::string_view secret) {
  // Short secrets reveal nothing at all; longer ones keep two characters.
  std::size_t keep = secret.size() >= 12 ? 2 : 0;
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on
  // literal + std::string temporaries.
  std::string out = printable(secret.substr(0, keep), keep);
  out.append("…(");
  out.append(std::to_string(secret.size()));
  out.append(" chars)");
  return out;
}

std::string printable(std::string_view bytes, std::size_t max_chars) {
  std::string out;
  for (char c : bytes.substr(0, std::min(bytes.size(), max_chars))) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '.');
  }
  if (bytes.size() > max_chars) out += "…";
  return out;
}

std::string redact_span(std::string_view text, std::size_t pos, std::size_t len,
                        std::size_t max_chars) {
  pos = std::min(pos, text.size());
  len = std::min(len, text.size() - pos);
  std::size_t context = max_chars / 2;
  std::size_t begin = pos > context ? pos - context : 0;
  std::size_t end = std::min(text.size(), pos + len + context);
  std::string out = begin > 0 ? "…" : "";
  out.append(printable(text.substr(begin, pos - begin), max_chars));
  out.push_back('[');
  out.append(redact(text.substr(pos, len)));
  out.push_back(']');
  out += printable(text.substr(pos + len, end - pos - len), max_chars);
  if (end < text.size()) out += "…";
  // Leading indentation carries no information.
  auto first = out.find_first_not_of(" \t");
  return first == std::string::npos ? out : out.substr(first);
}

bool any_at_or_above(const std::vector<Finding>& findings, Severity threshold) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.severity >= threshold; });
}

}  // namespace armored::audit
