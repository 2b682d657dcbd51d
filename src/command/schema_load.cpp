// Schema loading: the TOML layout of config/commands.toml, checked key by
// key. Every error starts with "<source>:<line>: ".

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>

#include "command/codec.h"
#include "command/schema.h"
#include "common/file_io.h"

namespace armored::command {

std::string_view builtin_schema_source();  // generated from config/commands.toml

namespace {

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  Status load(const toml::table& root, std::vector<DeviceType>& types_out, std::string& default_out) {
    bool have_version = false;
    for (const auto& [k, v] : root) {
      const std::string key(k.str());
      if (key == "schema_version") {
        if (!v.is_integer() || *v.value<std::int64_t>() != 1) {
          return fail(at(v) + "schema_version must be 1");
        }
        have_version = true;
      } else if (key == "default_device_type") {
        if (!v.is_string()) return fail(at(v) + "default_device_type must be a string");
        default_out = *v.value<std::string>();
        default_line_ = line_of(v);
      } else if (const toml::table* t = v.as_table()) {
        DeviceType dt;
        ARMORED_TRY(device_type(key, *t, dt));
        types_out.push_back(std::move(dt));
      } else {
        return fail(at(v) + "unknown key '" + printable(key) +
                    "' (expected schema_version, default_device_type or a [device_type] table)");
      }
    }
    if (!have_version) return fail(source_ + ":1: schema_version = 1 is missing");
    if (types_out.empty()) return fail(source_ + ":1: no device type is declared");
    if (types_out.size() > kMaxDeviceTypes) {
      return fail(at(*root.get(types_out[kMaxDeviceTypes].name)) + "more than " +
                  std::to_string(kMaxDeviceTypes) + " device types");
    }
    if (default_out.empty()) {
      if (types_out.size() > 1) return fail(source_ + ":1: default_device_type is missing (several types are declared)");
      default_out = types_out[0].name;
    }
    const bool known = std::any_of(types_out.begin(), types_out.end(),
                                   [&](const DeviceType& t) { return t.name == default_out; });
    if (!known) {
      return fail(source_ + ":" + std::to_string(default_line_) + ": default_device_type '" +
                  printable(default_out) + "' is not a declared device type");
    }
    return {};
  }

 private:
  std::string at(const toml::node& n) const { return source_ + ":" + std::to_string(line_of(n)) + ": "; }

  Status description(const toml::node& v, const std::string& what, std::string& out_) {
    if (!v.is_string()) return fail(at(v) + what + ".description must be a string");
    out_ = *v.value<std::string>();
    if (out_.size() > kMaxDescription) {
      return fail(at(v) + what + ".description is longer than " + std::to_string(kMaxDescription) + " bytes");
    }
    return {};
  }

  Status device_type(const std::string& name, const toml::table& t, DeviceType& out_) {
    if (!valid_name(name)) return fail(at(t) + "device type name '" + printable(name) + "' " + kNameRule);
    out_.name = name;
    out_.line = line_of(t);
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      if (key == "description") {
        ARMORED_TRY(description(v, name, out_.description));
      } else if (const toml::table* c = v.as_table()) {
        CommandSpec spec;
        ARMORED_TRY(command(name + "." + key, key, *c, spec));
        out_.commands.push_back(std::move(spec));
        if (out_.commands.size() > kMaxCommands) {
          return fail(at(v) + "device type " + name + " declares more than " +
                      std::to_string(kMaxCommands) + " commands");
        }
      } else {
        return fail(at(v) + "unknown key " + name + "." + printable(key) +
                    " (expected description or a [" + name + ".COMMAND] table)");
      }
    }
    if (out_.commands.empty()) return fail(at(t) + "device type " + name + " declares no commands");
    std::sort(out_.commands.begin(), out_.commands.end(),
              [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
    return {};
  }

  Status command(const std::string& path, const std::string& name, const toml::table& t, CommandSpec& out_) {
    if (!valid_name(name)) return fail(at(t) + "command name '" + printable(name) + "' " + kNameRule);
    out_.name = name;
    out_.line = line_of(t);
    bool have_rate = false;
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      if (key == "description") {
        ARMORED_TRY(description(v, path, out_.description));
      } else if (key == "rate_per_minute") {
        if (!v.is_integer()) return fail(at(v) + path + ".rate_per_minute must be a whole number");
        const auto r = *v.value<std::int64_t>();
        if (r < 1 || r > static_cast<std::int64_t>(kMaxRatePerMinute)) {
          return fail(at(v) + path + ".rate_per_minute is " + std::to_string(r) + ", must be between 1 and " +
                      std::to_string(kMaxRatePerMinute));
        }
        out_.rate_per_minute = static_cast<std::uint32_t>(r);
        have_rate = true;
      } else if (key == "params") {
        const toml::table* p = v.as_table();
        if (!p) return fail(at(v) + path + ".params must be a table of parameters");
        for (const auto& [pk, pv] : *p) {
          ParamSpec spec;
          ARMORED_TRY(param(path + "." + std::string(pk.str()), std::string(pk.str()), pv, spec));
          out_.params.push_back(std::move(spec));
          if (out_.params.size() > kMaxParams) {
            return fail(at(pv) + path + " declares more than " + std::to_string(kMaxParams) + " parameters");
          }
        }
      } else {
        return fail(at(v) + "unknown key " + path + "." + printable(key) +
                    " (expected rate_per_minute, params or description)");
      }
    }
    if (!have_rate) return fail(at(t) + path + ".rate_per_minute is missing");
    canonical_sort_specs(out_.params);
    const std::size_t worst = worst_case_size(out_);
    if (worst > kMaxMessageBytes) {
      return fail(at(t) + path + " could encode to " + std::to_string(worst) + " bytes, over the " +
                  std::to_string(kMaxMessageBytes) + "-byte command limit (shorten its strings)");
    }
    return {};
  }

  Status param(const std::string& path, const std::string& name, const toml::node& n, ParamSpec& out_) {
    const toml::table* t = n.as_table();
    if (!t) return fail(at(n) + path + " must be a table such as { type = \"int\", min = 0, max = 10 }");
    if (!valid_name(name)) return fail(at(n) + "parameter name '" + printable(name) + "' " + kNameRule);
    out_.name = name;
    out_.line = line_of(n);
    const toml::node* type = t->get("type");
    if (!type) return fail(at(n) + path + ".type is missing (int, float, bool, enum or string)");
    const std::string ts = type->value<std::string>().value_or("");
    if (ts == "int") out_.type = ParamType::kInt;
    else if (ts == "float") out_.type = ParamType::kFloat;
    else if (ts == "bool") out_.type = ParamType::kBool;
    else if (ts == "enum") out_.type = ParamType::kEnum;
    else if (ts == "string") out_.type = ParamType::kString;
    else return fail(at(*type) + path + ".type must be one of int, float, bool, enum, string");

    bool have_min = false, have_max = false, have_values = false, have_len = false;
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      const toml::node& value = v;  // clang 14 cannot capture a structured binding
      const auto wrong_type_key = [&] {
        return fail(at(value) + path + "." + key + " does not apply to a parameter of type " + ts);
      };
      if (key == "type") continue;
      if (key == "required") {
        if (!v.is_boolean()) return fail(at(v) + path + ".required must be true or false");
        out_.required = *v.value<bool>();
      } else if (key == "description") {
        ARMORED_TRY(description(v, path, out_.description));
      } else if (key == "min" || key == "max") {
        const bool is_min = key == "min";
        (is_min ? have_min : have_max) = true;
        if (out_.type == ParamType::kInt) {
          if (!v.is_integer()) return fail(at(v) + path + "." + key + " must be a whole number");
          (is_min ? out_.int_min : out_.int_max) = *v.value<std::int64_t>();
        } else if (out_.type == ParamType::kFloat) {
          if (!v.is_number()) return fail(at(v) + path + "." + key + " must be a number");
          const double d = *v.value<double>();
          if (!std::isfinite(d)) return fail(at(v) + path + "." + key + " must be finite");
          (is_min ? out_.float_min : out_.float_max) = d;
        } else {
          return wrong_type_key();
        }
      } else if (key == "values") {
        if (out_.type != ParamType::kEnum) return wrong_type_key();
        have_values = true;
        ARMORED_TRY(enum_values(path, v, out_.values));
      } else if (key == "max_length") {
        if (out_.type != ParamType::kString) return wrong_type_key();
        have_len = true;
        const auto len = v.value<std::int64_t>();
        if (!v.is_integer() || *len < 1 || *len > static_cast<std::int64_t>(kMaxStringLength)) {
          return fail(at(v) + path + ".max_length must be a whole number between 1 and " +
                      std::to_string(kMaxStringLength));
        }
        out_.max_length = static_cast<std::size_t>(*len);
      } else if (key == "charset") {
        if (out_.type != ParamType::kString) return wrong_type_key();
        const std::string cs = v.value<std::string>().value_or("");
        if (cs == "printable") out_.charset = Charset::kPrintable;
        else if (cs == "identifier") out_.charset = Charset::kIdentifier;
        else return fail(at(v) + path + ".charset must be \"printable\" or \"identifier\"");
      } else {
        return fail(at(v) + "unknown key " + path + "." + printable(key));
      }
    }
    const bool ranged = out_.type == ParamType::kInt || out_.type == ParamType::kFloat;
    if (ranged && !(have_min && have_max)) return fail(at(n) + path + " needs both min and max");
    if (out_.type == ParamType::kInt && out_.int_min > out_.int_max) {
      return fail(at(n) + path + ": min is greater than max");
    }
    if (out_.type == ParamType::kFloat && out_.float_min > out_.float_max) {
      return fail(at(n) + path + ": min is greater than max");
    }
    if (out_.type == ParamType::kEnum && !have_values) return fail(at(n) + path + ".values is missing");
    if (out_.type == ParamType::kString && !have_len) return fail(at(n) + path + ".max_length is missing");
    return {};
  }

  Status enum_values(const std::string& path, const toml::node& v, std::vector<std::string>& out_) {
    const toml::array* a = v.as_array();
    if (!a || a->empty()) return fail(at(v) + path + ".values must be a non-empty array of names");
    if (a->size() > kMaxEnumValues) {
      return fail(at(v) + path + ".values has more than " + std::to_string(kMaxEnumValues) + " entries");
    }
    for (const auto& e : *a) {
      if (!e.is_string()) return fail(at(v) + path + ".values must contain only strings");
      std::string s = *e.value<std::string>();
      if (!valid_name(s)) return fail(at(v) + path + ".values entry '" + printable(s) + "' " + kNameRule);
      if (std::find(out_.begin(), out_.end(), s) != out_.end()) {
        return fail(at(v) + path + ".values lists '" + s + "' twice");
      }
      out_.push_back(std::move(s));
    }
    return {};
  }

  static void canonical_sort_specs(std::vector<ParamSpec>& v) {
    std::sort(v.begin(), v.end(), [](const ParamSpec& a, const ParamSpec& b) { return canonical_less(a.name, b.name); });
  }

  // The largest plaintext encode_command() can produce for this command
  // (codec.h layout, every head at its widest).
  static std::size_t worst_case_size(const CommandSpec& c) {
    const auto text = [](std::size_t len) { return len + (len < 24 ? 1 : len < 256 ? 2 : 3); };
    std::size_t n = 3 + 1;              // tag 55799, map(5)
    n += 1 + 1;                         // 0: kind
    n += 1 + 9;                         // 1: id
    n += 1 + text(c.name.size());       // 2: name
    n += 1 + 1;                         // 3: params map head (<= 16 entries)
    for (const auto& p : c.params) {
      n += text(p.name.size());
      switch (p.type) {
        case ParamType::kInt: n += 9; break;
        case ParamType::kFloat: n += 9; break;
        case ParamType::kBool: n += 1; break;
        case ParamType::kEnum: {
          std::size_t longest = 0;
          for (const auto& s : p.values) longest = std::max(longest, s.size());
          n += text(longest);
          break;
        }
        case ParamType::kString: n += text(p.max_length); break;
      }
    }
    n += 1 + 9;                         // 4: issued_at_ms
    return n;
  }

  static constexpr const char* kNameRule = "must be 1..32 characters of a-z 0-9 _ starting with a letter";
  std::string source_;
  int default_line_ = 1;
};

}  // namespace

Expected<Schema> Schema::parse(std::string_view text, const std::string& source) {
  if (text.size() > kMaxSchemaBytes) {
    return fail(source + ": larger than " + std::to_string(kMaxSchemaBytes) + " bytes");
  }
  toml::table root;
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return fail(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Schema s;
  Loader loader(source);
  auto r = loader.load(root, s.types_, s.default_type_);
  if (!r) return unexpected(r.error());
  std::sort(s.types_.begin(), s.types_.end(), [](const DeviceType& a, const DeviceType& b) { return a.name < b.name; });
  return s;
}

Expected<Schema> Schema::load(const std::filesystem::path& path) {
  auto text = read_text_file(path, kMaxSchemaBytes);
  if (!text) return unexpected(text.error());
  return parse(*text, path.string());
}

std::string_view Schema::builtin_text() { return builtin_schema_source(); }

const Schema& Schema::builtin() {
  // The shipped file is checked by the tests; a broken one must not build a
  // binary that silently accepts nothing, so failure here is fatal.
  static const Schema schema = [] {
    auto s = parse(builtin_schema_source(), "config/commands.toml (built in)");
    if (!s) std::abort();
    return std::move(*s);
  }();
  return schema;
}

}  // namespace armored::command
