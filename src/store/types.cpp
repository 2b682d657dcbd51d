#include "store/types.h"

#include <array>
#include <utility>

namespace armored::store {
namespace {

constexpr std::array<std::pair<EventKind, const char*>, 9> kEventNames = {{
    {EventKind::kRejectedEnvelope, "rejected_envelope"},
    {EventKind::kFailedHandshake, "failed_handshake"},
    {EventKind::kAclDenied, "acl_denied"},
    {EventKind::kEarlyDataRefused, "early_data_refused"},
    {EventKind::kProtocolError, "protocol_error"},
    {EventKind::kCommandRefused, "command_refused"},
    {EventKind::kOther, "other"},
    {EventKind::kConnected, "connected"},
    {EventKind::kOperatorAuthFailed, "operator_auth_failed"},
}};

constexpr std::array<std::pair<CommandStatus, const char*>, 5> kStatusNames = {{
    {CommandStatus::kPending, "pending"},
    {CommandStatus::kSent, "sent"},
    {CommandStatus::kAcknowledged, "acknowledged"},
    {CommandStatus::kFailed, "failed"},
    {CommandStatus::kExpired, "expired"},
}};

}  // namespace

Error to_error(const StoreError& e) {
  switch (e.code) {
    case StoreErrorCode::kUnavailable: return {e.message, "store", "unavailable", ErrorKind::kFailed};
    case StoreErrorCode::kIo: return {e.message, "store", "io", ErrorKind::kFailed};
    case StoreErrorCode::kInvalidArgument: return {e.message, "store", "invalid_argument", ErrorKind::kBadInput};
    case StoreErrorCode::kConflict: return {e.message, "store", "conflict", ErrorKind::kBadInput};
    case StoreErrorCode::kNotFound: return {e.message, "store", "not_found", ErrorKind::kBadInput};
  }
  return {e.message, "store", "io", ErrorKind::kFailed};
}

const char* to_string(EventKind k) {
  for (const auto& [kind, name] : kEventNames) {
    if (kind == k) return name;
  }
  return "other";
}

EventKind event_kind_from(std::string_view s) {
  for (const auto& [kind, name] : kEventNames) {
    if (s == name) return kind;
  }
  return EventKind::kOther;
}

const char* to_string(CommandStatus s) {
  for (const auto& [status, name] : kStatusNames) {
    if (status == s) return name;
  }
  return "failed";
}

std::optional<CommandStatus> command_status_from(std::string_view s) {
  for (const auto& [status, name] : kStatusNames) {
    if (s == name) return status;
  }
  return std::nullopt;
}

std::string like_contains(std::string_view search) {
  std::string out = "%";
  for (char c : search) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace armored::store
