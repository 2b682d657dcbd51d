#pragma once
// The command schema: which commands each device type accepts, with typed,
// bounded parameters and a per-device rate limit. One TOML file, shipped as
// config/commands.toml (documented there key by key) and compiled into the
// binary as the default. The cloud validates against it before sending;
// each device validates again against its own copy.
//
// Loading is strict: every error names the file and line and says what was
// wrong; unknown keys, bad names, empty ranges, duplicate enum values and
// files or lists over the limits below are refused.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "command/value.h"
#include "common/result.h"

namespace armored::command {

// Limits of a schema file (a schema over them is refused at load).
inline constexpr std::size_t kMaxSchemaBytes = 64 * 1024;
inline constexpr std::size_t kMaxDeviceTypes = 16;
inline constexpr std::size_t kMaxCommands = 64;       // per device type
inline constexpr std::size_t kMaxParams = 16;         // per command
inline constexpr std::size_t kMaxNameLength = 32;     // type, command, parameter and enum value names
inline constexpr std::size_t kMaxEnumValues = 32;
inline constexpr std::size_t kMaxStringLength = 256;  // largest max_length a string may declare
inline constexpr std::uint32_t kMaxRatePerMinute = 600;
inline constexpr std::size_t kMaxDescription = 200;

// Which bytes a string parameter accepts.
enum class Charset : std::uint8_t {
  kPrintable,   // "printable": ASCII 0x20..0x7E (no NUL, control, DEL or non-ASCII bytes)
  kIdentifier,  // "identifier": A-Z a-z 0-9 _ . -
};
const char* to_string(Charset c);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInt;
  bool required = true;
  std::int64_t int_min = 0, int_max = 0;     // kInt: inclusive bounds
  double float_min = 0, float_max = 0;       // kFloat: inclusive bounds (finite)
  std::vector<std::string> values;           // kEnum: allowed values, as declared
  std::size_t max_length = 0;                // kString: bytes
  Charset charset = Charset::kPrintable;     // kString
  std::string description;
  int line = 0;                              // where it was declared
};

struct CommandSpec {
  std::string name;
  std::vector<ParamSpec> params;   // canonical order (value.h)
  std::uint32_t rate_per_minute = 0;  // token bucket: this many at once, refilled evenly over a minute
  std::string description;
  int line = 0;
  // The parameter with this name, or nullptr.
  const ParamSpec* find(std::string_view param) const;
};

struct DeviceType {
  std::string name;
  std::vector<CommandSpec> commands;  // sorted by name
  std::string description;
  int line = 0;
  // The command with this name, or nullptr.
  const CommandSpec* find(std::string_view command) const;
};

class Schema {
 public:
  // Parses a schema; `source` names it in errors ("config/commands.toml").
  // Errors read "<source>:<line>: <what is wrong>".
  static Expected<Schema> parse(std::string_view text, const std::string& source);
  // Reads (at most kMaxSchemaBytes) and parses a file.
  static Expected<Schema> load(const std::filesystem::path& path);
  // The copy of config/commands.toml compiled into the binary.
  static const Schema& builtin();
  static std::string_view builtin_text();

  // The device type with this name, or nullptr.
  const DeviceType* device_type(std::string_view name) const;
  const std::vector<DeviceType>& device_types() const { return types_; }
  // The type used when a device's type is not known otherwise
  // (top-level key default_device_type).
  const std::string& default_device_type() const { return default_type_; }

 private:
  std::vector<DeviceType> types_;  // sorted by name
  std::string default_type_;
};

}  // namespace armored::command
