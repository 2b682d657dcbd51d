#pragma once
// Validation of commands against the schema: from text, as the CLI receives
// them (`NAME key=value ...`), into a typed Command; and of a typed Command
// again (the device checks what it decoded). Nothing is interpreted: values
// are parsed by fixed grammars and stored as data, never passed to a shell or
// used as a format string.
//
// Text grammars (anything else is wrong_type):
//   int    -?[0-9]+ without leading zeros ("0" is fine, "-0" is not); beyond
//          64 bits is out_of_range. No '+', spaces, hex, exponent or decimals.
//   float  -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?; "nan", "inf", "infinity"
//          (any case, any sign) are not_finite; a value beyond double is
//          out_of_range ("1e400").
//   bool   true | false
//   enum   one of the declared values, exactly (case-sensitive): not_allowed
//   string any bytes of the charset (bad_character), at most max_length (too_long)
// Any NUL or control byte in a value is bad_character for every type, checked
// first, so "5\n" is refused as bad_character rather than wrong_type.
//
// Order of checks, so each input has exactly one reason: argument count and
// size (too_large); device type; command; then each argument in order
// (malformed_argument, unknown_parameter, duplicate_parameter, value); then
// missing required parameters in canonical order (shorter names first).

#include <span>
#include <string>
#include <string_view>

#include "command/error.h"
#include "command/schema.h"
#include "command/value.h"
#include "common/result.h"

namespace armored::command {

inline constexpr std::size_t kMaxArguments = 32;
inline constexpr std::size_t kMaxArgumentBytes = 1024;  // one "key=value"

class Validator {
 public:
  // The schema must outlive the validator.
  explicit Validator(const Schema& schema) : schema_(&schema) {}

  // Validates `name key=value...` for a device of `device_type`. On success
  // returns the command with params in canonical order, id 0 and
  // issued_at_ms 0 (the sender sets both). Counts each refusal.
  Result<Command, Refusal> from_text(std::string_view device_type, std::string_view name,
                                     std::span<const std::string> arguments);

  // Checks a decoded command against the schema: declared command, declared
  // parameters present once each with the declared kind, in range, allowed,
  // within length and charset. Counts each refusal.
  Result<void, Refusal> check(std::string_view device_type, const Command& command);

  const ReasonCounters& counters() const { return counters_; }

 private:
  Result<Command, Refusal> from_text_impl(std::string_view device_type, std::string_view name,
                                          std::span<const std::string> arguments) const;
  Result<void, Refusal> check_impl(std::string_view device_type, const Command& command) const;

  const Schema* schema_;
  ReasonCounters counters_;
};

// One value from text against its parameter spec (the grammar above).
Result<Value, Reason> parse_value(const ParamSpec& spec, std::string_view text);
// One typed value against its parameter spec.
Result<void, Reason> check_value(const ParamSpec& spec, const Value& value);

}  // namespace armored::command
