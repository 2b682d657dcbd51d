#pragma once
// Typed commands and replies, as validated from text at the cloud and as
// carried (CBOR, codec.h) inside E3 envelopes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/error.h"

namespace armored::command {

// The declared type of a parameter (schema.h).
enum class ParamType : std::uint8_t { kInt, kFloat, kBool, kEnum, kString };
const char* to_string(ParamType t);

// One typed value. Enum and string parameters both carry text; which one a
// parameter is comes from the schema.
struct Value {
  enum class Kind : std::uint8_t { kInt, kFloat, kBool, kText };
  Kind kind = Kind::kInt;
  std::int64_t i = 0;  // kInt
  double f = 0;        // kFloat (always finite once validated or decoded)
  bool b = false;      // kBool
  std::string text;    // kText

  static Value integer(std::int64_t v) { Value x; x.kind = Kind::kInt; x.i = v; return x; }
  static Value real(double v) { Value x; x.kind = Kind::kFloat; x.f = v; return x; }
  static Value boolean(bool v) { Value x; x.kind = Kind::kBool; x.b = v; return x; }
  static Value string(std::string v) { Value x; x.kind = Kind::kText; x.text = std::move(v); return x; }

  bool operator==(const Value& o) const;
};

// Human-readable form for `command status` and logs: 30, 21.5, true, "text"
// (text through printable(), quoted).
std::string to_display(const Value& v);

struct Param {
  std::string name;
  Value value;
  bool operator==(const Param&) const = default;
};

// A validated command. params are in canonical order (see codec.h:
// shorter names first, then bytewise), which Validator produces and the
// decoder requires.
struct Command {
  std::uint64_t id = 0;            // chosen by the cloud, unique per device
  std::string name;
  std::vector<Param> params;
  std::int64_t issued_at_ms = 0;   // cloud wall clock, Unix milliseconds
  bool operator==(const Command&) const = default;
  // The parameter with this name, or nullptr.
  const Value* find(std::string_view param) const;
};

enum class Outcome : std::uint8_t { kAccepted = 0, kRefused = 1 };
const char* to_string(Outcome o);  // "accepted" / "refused"

// The device's answer to one command.
struct Reply {
  std::uint64_t command_id = 0;  // 0 when the command did not decode
  Outcome outcome = Outcome::kRefused;
  Reason reason = Reason::kMalformed;  // meaningful only when refused
  std::vector<Param> result;     // only when accepted: e.g. get_status fields, canonical order
  bool operator==(const Reply& o) const;
};

// Canonical order of names: shorter first, then bytewise (unsigned).
bool canonical_less(std::string_view a, std::string_view b);
// Sorts params into canonical order (shorter names first, then bytewise).
void canonical_sort(std::vector<Param>& params);

}  // namespace armored::command
