#include "command/error.h"

namespace armored::command {

namespace {
// Indexed by Reason; these names are on the wire and in the audit trail.
constexpr const char* kNames[kReasonCount] = {
    "too_large",     "malformed_argument", "unknown_device_type", "unknown_command",
    "unknown_parameter", "duplicate_parameter", "missing_parameter", "wrong_type",
    "not_finite",    "out_of_range",       "not_allowed",         "too_long",
    "bad_character", "malformed",          "stale",               "future",
    "replayed",      "rate_limited",       "unsupported",         "failed",
};
}  // namespace

const char* to_string(Reason r) {
  auto i = static_cast<std::size_t>(r);
  return i < kReasonCount ? kNames[i] : "unknown";
}

std::optional<Reason> parse_reason(std::string_view name) {
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    if (name == kNames[i]) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

std::string to_string(const Refusal& r) {
  std::string s = to_string(r.reason);
  if (!r.detail.empty()) s += " (" + r.detail + ")";
  return s;
}

std::string printable(std::string_view untrusted, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::size_t n = std::min(untrusted.size(), max_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(untrusted[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (untrusted.size() > max_bytes) out += "...";
  return out;
}

}  // namespace armored::command
