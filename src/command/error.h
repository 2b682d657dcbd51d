#pragma once
// Why a command was refused, at the cloud (validation before sending) or at
// the device (freshness, replay, validation again, rate limit, action).
// Each reason has a stable short name: it is what the reply carries on the
// wire, what the audit trail records and what `armored command status`
// shows, so the names never change once shipped (docs/commands.md).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace armored::command {

enum class Reason : std::uint8_t {
  // Text input (cloud) and typed values (cloud and device).
  kTooLarge,            // "too_large": too many arguments or an argument too long
  kMalformedArgument,   // "malformed_argument": not key=value, or an empty key
  kUnknownDeviceType,   // "unknown_device_type": no such device type in the schema
  kUnknownCommand,      // "unknown_command": not declared for the device type
  kUnknownParameter,    // "unknown_parameter": a parameter the command does not declare
  kDuplicateParameter,  // "duplicate_parameter": the same parameter twice
  kMissingParameter,    // "missing_parameter": a required parameter is absent
  kWrongType,           // "wrong_type": value does not parse as, or is not, the declared type
  kNotFinite,           // "not_finite": NaN or infinity for a float
  kOutOfRange,          // "out_of_range": number outside min..max (or beyond 64 bits)
  kNotAllowed,          // "not_allowed": enum value not among the declared values
  kTooLong,             // "too_long": string longer than max_length bytes
  kBadCharacter,        // "bad_character": NUL, control or other character outside the charset
  // Device only.
  kMalformed,           // "malformed": the command plaintext does not decode
  kStale,               // "stale": issued_at older than the freshness window
  kFuture,              // "future": issued_at later than now + allowed clock skew
  kReplayed,            // "replayed": a command id the device has already handled
  kRateLimited,         // "rate_limited": over the command's per-minute limit
  kUnsupported,         // "unsupported": declared, but this device has no action for it
  kFailed,              // "failed": the action itself failed on the device
};
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::kFailed) + 1;

// The stable short name ("out_of_range"); never null.
const char* to_string(Reason r);
// The reason with this exact name, nullopt for anything else.
std::optional<Reason> parse_reason(std::string_view name);

// A refusal: the reason plus what it is about (usually the parameter name,
// else empty). `detail` is printable ASCII only: text taken from the input is
// passed through printable() first, so it can go into logs and the audit
// trail as is.
struct Refusal {
  Reason reason;
  std::string detail;
  bool operator==(const Refusal&) const = default;
};

// "out_of_range (seconds)" or "unknown_command".
std::string to_string(const Refusal& r);

// Input text made safe to show: printable ASCII kept, every other byte as
// \xNN, cut to max_bytes of input with "..." appended when longer.
std::string printable(std::string_view untrusted, std::size_t max_bytes = 32);

// Refusals counted by reason (single-threaded; owners aggregate).
class ReasonCounters {
 public:
  void count(Reason r) {
    ++by_reason_[static_cast<std::size_t>(r)];
    ++total_;
  }
  std::uint64_t operator[](Reason r) const { return by_reason_[static_cast<std::size_t>(r)]; }
  std::uint64_t total() const { return total_; }

 private:
  std::array<std::uint64_t, kReasonCount> by_reason_{};
  std::uint64_t total_ = 0;
};

}  // namespace armored::command
