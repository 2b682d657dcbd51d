// Roles, identity IDs, validity periods and time text: the small rules
// every PKI operation checks before touching a file.

#include <cstdio>
#include <ctime>

#include "pki/pki.h"

namespace armored::pki {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::cloud: return "cloud";
    case Role::gateway: return "gateway";
    case Role::device: return "device";
  }
  return "device";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "cloud") return Role::cloud;
  if (name == "gateway") return Role::gateway;
  if (name == "device") return Role::device;
  return std::nullopt;
}

bool is_input_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::bad_input:
    case ErrorCode::conflict:
    case ErrorCode::not_found:
    case ErrorCode::ca_unusable:
    case ErrorCode::busy:
      return true;
    case ErrorCode::io:
    case ErrorCode::crypto:
      return false;
  }
  return false;
}

armored::Error to_error(const Error& e) {
  static constexpr std::string_view kNames[] = {"bad_input", "conflict", "not_found", "ca_unusable",
                                                "busy",      "io",       "crypto"};
  return {e.message, "pki", kNames[static_cast<std::size_t>(e.code)],
          is_input_error(e) ? ErrorKind::kBadInput : ErrorKind::kFailed};
}

namespace {
constexpr std::size_t kMaxIdLength = 64;

bool id_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string printable(char c) {
  if (c >= 0x21 && c <= 0x7e) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
  return buf;
}
}  // namespace

PkiStatus validate_id(std::string_view id) {
  // IDs become file names and URI path segments, so the alphabet is the
  // intersection of what is safe in both; a leading dot would hide the files.
  if (id.empty()) return unexpected(Error{ErrorCode::bad_input, "identity ID is empty"});
  if (id.size() > kMaxIdLength)
    return unexpected(Error{ErrorCode::bad_input, "identity ID is " + std::to_string(id.size()) +
                                                      " characters long; at most 64 are allowed"});
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (!id_char_ok(id[i]))
      return unexpected(Error{ErrorCode::bad_input,
                              "identity ID contains " + printable(id[i]) + " at position " +
                                  std::to_string(i + 1) + "; allowed are A-Z a-z 0-9 . _ -"});
  }
  if (id.front() == '.')
    return unexpected(Error{ErrorCode::bad_input, "identity ID must not start with '.'"});
  return {};
}

Validity validity_for_days(TimePoint now, int days) {
  using namespace std::chrono;
  auto start = time_point_cast<seconds>(now) - minutes(5);
  auto end = time_point_cast<seconds>(now) + hours(24) * days;
  return {start, end};
}

std::string format_time(TimePoint t) {
  time_t secs = static_cast<time_t>(unix_seconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<TimePoint> parse_time(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return TimePoint{std::chrono::seconds{timegm(&tm)}};
}

}  // namespace armored::pki
