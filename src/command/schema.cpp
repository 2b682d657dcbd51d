#include "command/schema.h"

#include <algorithm>

namespace armored::command {

const char* to_string(Charset c) { return c == Charset::kIdentifier ? "identifier" : "printable"; }

const ParamSpec* CommandSpec::find(std::string_view param) const {
  for (const auto& p : params) {
    if (p.name == param) return &p;
  }
  return nullptr;
}

const CommandSpec* DeviceType::find(std::string_view command) const {
  auto it = std::lower_bound(commands.begin(), commands.end(), command,
                             [](const CommandSpec& c, std::string_view n) { return c.name < n; });
  return it != commands.end() && it->name == command ? &*it : nullptr;
}

const DeviceType* Schema::device_type(std::string_view name) const {
  for (const auto& t : types_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace armored::command
