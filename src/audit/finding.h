#pragma once
// The one finding model shared by every `armored audit` scanner: what was
// found (rule), where (file/line/offset or endpoint), a redacted piece of
// evidence (never a full secret), why it matters and how to fix it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace armored::audit {

enum class Severity : std::uint8_t { kInfo = 0, kLow, kMedium, kHigh, kCritical };

std::string_view severity_name(Severity s);
// Accepts info, low, medium, high, critical (any case); nullopt otherwise.
std::optional<Severity> parse_severity(std::string_view name);

// Static description of a rule; scanners keep a table of these.
struct RuleInfo {
  std::string_view id;
  Severity severity;
  std::string_view title;  // one line: what was found
  std::string_view why;    // why it matters
  std::string_view fix;    // how to fix it
};

struct Location {
  std::string path;                     // file as reached from the scanned root
  std::size_t line = 0;                 // 1-based; 0 when not line-oriented
  std::size_t column = 0;               // 1-based; 0 when unknown
  std::optional<std::uint64_t> offset;  // byte offset in a binary file or capture
  std::string endpoint;                 // host:port for network audits
};

struct Finding {
  std::string rule_id;
  Severity severity = Severity::kInfo;
  Location where;
  std::string evidence;  // redacted snippet
  std::string message;   // specific to this occurrence
  std::string why;
  std::string fix;
};

// Builds a finding from a rule's static text.
Finding make_finding(const RuleInfo& rule, Location where, std::string evidence,
                     std::string message = {});

// "ab…(20 chars)": keeps at most two leading characters of a secret and its
// length, so a reader can recognise it without learning it.
std::string redact(std::string_view secret);

// Returns `text` with [pos, pos+len) replaced by redact() of that span, and
// cut to at most `max_chars` around it. Non-printable bytes become '.'.
std::string redact_span(std::string_view text, std::size_t pos, std::size_t len,
                        std::size_t max_chars = 120);

// Printable rendering of arbitrary bytes (non-printables as '.'), at most max_chars.
std::string printable(std::string_view bytes, std::size_t max_chars = 120);

// True when any finding is at or above `threshold`.
bool any_at_or_above(const std::vector<Finding>& findings, Severity threshold);

}  // namespace armored::audit
