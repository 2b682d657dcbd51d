#include "command/validate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

namespace armored::command {

namespace {

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
bool has_control(std::string_view s) { return std::any_of(s.begin(), s.end(), is_control); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool in_charset(Charset cs, std::string_view s) {
  return std::all_of(s.begin(), s.end(), [cs](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (cs == Charset::kPrintable) return u >= 0x20 && u < 0x7f;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' || c == '-';
  });
}

// -?[0-9]+ without leading zeros; "-0" refused (two spellings of one value).
bool int_grammar(std::string_view s) {
  std::string_view d = s;
  if (!d.empty() && d[0] == '-') d.remove_prefix(1);
  if (d.empty() || !std::all_of(d.begin(), d.end(), is_digit)) return false;
  if (d.size() > 1 && d[0] == '0') return false;
  return !(s[0] == '-' && d == "0");
}

// -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?
bool float_grammar(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool names_non_finite(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  std::string lower(s);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "nan" || lower == "inf" || lower == "infinity";
}

Result<void, Reason> check_text(const ParamSpec& spec, std::string_view text) {
  if (has_control(text)) return unexpected(Reason::kBadCharacter);
  if (spec.type == ParamType::kEnum) {
    if (std::find(spec.values.begin(), spec.values.end(), text) == spec.values.end()) {
      return unexpected(Reason::kNotAllowed);
    }
    return {};
  }
  if (text.size() > spec.max_length) return unexpected(Reason::kTooLong);
  if (!in_charset(spec.charset, text)) return unexpected(Reason::kBadCharacter);
  return {};
}

}  // namespace

Result<Value, Reason> parse_value(const ParamSpec& spec, std::string_view text) {
  if (has_control(text)) return unexpected(Reason::kBadCharacter);
  switch (spec.type) {
    case ParamType::kInt: {
      if (!int_grammar(text)) return unexpected(Reason::kWrongType);
      std::int64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc::result_out_of_range) return unexpected(Reason::kOutOfRange);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return unexpected(Reason::kWrongType);
      if (v < spec.int_min || v > spec.int_max) return unexpected(Reason::kOutOfRange);
      return Value::integer(v);
    }
    case ParamType::kFloat: {
      if (names_non_finite(text)) return unexpected(Reason::kNotFinite);
      if (!float_grammar(text)) return unexpected(Reason::kWrongType);
      double v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc::result_out_of_range) return unexpected(Reason::kOutOfRange);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return unexpected(Reason::kWrongType);
      if (!std::isfinite(v)) return unexpected(Reason::kOutOfRange);
      if (v < spec.float_min || v > spec.float_max) return unexpected(Reason::kOutOfRange);
      if (v == 0) v = 0;  // "-0.0" and "0" are one value on the wire
      return Value::real(v);
    }
    case ParamType::kBool:
      if (text == "true") return Value::boolean(true);
      if (text == "false") return Value::boolean(false);
      return unexpected(Reason::kWrongType);
    case ParamType::kEnum:
    case ParamType::kString: {
      auto ok = check_text(spec, text);
      if (!ok) return unexpected(ok.error());
      return Value::string(std::string(text));
    }
  }
  return unexpected(Reason::kWrongType);
}

Result<void, Reason> check_value(const ParamSpec& spec, const Value& v) {
  switch (spec.type) {
    case ParamType::kInt:
      if (v.kind != Value::Kind::kInt) return unexpected(Reason::kWrongType);
      if (v.i < spec.int_min || v.i > spec.int_max) return unexpected(Reason::kOutOfRange);
      return {};
    case ParamType::kFloat:
      if (v.kind != Value::Kind::kFloat) return unexpected(Reason::kWrongType);
      if (!std::isfinite(v.f)) return unexpected(Reason::kNotFinite);
      if (v.f < spec.float_min || v.f > spec.float_max) return unexpected(Reason::kOutOfRange);
      return {};
    case ParamType::kBool:
      if (v.kind != Value::Kind::kBool) return unexpected(Reason::kWrongType);
      return {};
    case ParamType::kEnum:
    case ParamType::kString:
      if (v.kind != Value::Kind::kText) return unexpected(Reason::kWrongType);
      return check_text(spec, v.text);
  }
  return unexpected(Reason::kWrongType);
}

Result<Command, Refusal> Validator::from_text(std::string_view device_type, std::string_view name,
                                              std::span<const std::string> arguments) {
  auto r = from_text_impl(device_type, name, arguments);
  if (!r) counters_.count(r.error().reason);
  return r;
}

Result<void, Refusal> Validator::check(std::string_view device_type, const Command& command) {
  auto r = check_impl(device_type, command);
  if (!r) counters_.count(r.error().reason);
  return r;
}

namespace {

Result<const CommandSpec*, Refusal> find_command(const Schema& schema, std::string_view type,
                                                 std::string_view name) {
  const DeviceType* dt = schema.device_type(type);
  if (!dt) return unexpected(Refusal{Reason::kUnknownDeviceType, printable(type)});
  const CommandSpec* spec = dt->find(name);
  if (!spec) return unexpected(Refusal{Reason::kUnknownCommand, printable(name)});
  return spec;
}

Result<void, Refusal> check_missing(const CommandSpec& spec, const std::set<std::string, std::less<>>& seen) {
  for (const auto& p : spec.params) {
    if (p.required && !seen.contains(p.name)) return unexpected(Refusal{Reason::kMissingParameter, p.name});
  }
  return {};
}

}  // namespace

Result<Command, Refusal> Validator::from_text_impl(std::string_view device_type, std::string_view name,
                                                   std::span<const std::string> arguments) const {
  if (arguments.size() > kMaxArguments) {
    return unexpected(Refusal{Reason::kTooLarge, std::to_string(arguments.size()) + " arguments"});
  }
  for (const auto& a : arguments) {
    if (a.size() > kMaxArgumentBytes) return unexpected(Refusal{Reason::kTooLarge, printable(a)});
  }
  if (name.size() > kMaxArgumentBytes) return unexpected(Refusal{Reason::kTooLarge, printable(name)});
  auto spec = find_command(*schema_, device_type, name);
  if (!spec) return unexpected(spec.error());

  Command c;
  c.name = std::string(name);
  std::set<std::string, std::less<>> seen;
  for (const std::string& arg : arguments) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) return unexpected(Refusal{Reason::kMalformedArgument, printable(arg)});
    const std::string_view key(arg.data(), eq);
    const std::string_view text(arg.data() + eq + 1, arg.size() - eq - 1);
    const ParamSpec* p = (*spec)->find(key);
    if (!p) return unexpected(Refusal{Reason::kUnknownParameter, printable(key)});
    if (!seen.insert(std::string(key)).second) return unexpected(Refusal{Reason::kDuplicateParameter, p->name});
    auto v = parse_value(*p, text);
    if (!v) return unexpected(Refusal{v.error(), p->name});
    c.params.push_back({p->name, std::move(*v)});
  }
  auto missing = check_missing(**spec, seen);
  if (!missing) return unexpected(missing.error());
  canonical_sort(c.params);
  return c;
}

Result<void, Refusal> Validator::check_impl(std::string_view device_type, const Command& command) const {
  auto spec = find_command(*schema_, device_type, command.name);
  if (!spec) return unexpected(spec.error());
  if (command.params.size() > kMaxParams) {
    return unexpected(Refusal{Reason::kTooLarge, std::to_string(command.params.size()) + " parameters"});
  }
  std::set<std::string, std::less<>> seen;
  for (const Param& given : command.params) {
    const ParamSpec* p = (*spec)->find(given.name);
    if (!p) return unexpected(Refusal{Reason::kUnknownParameter, printable(given.name)});
    if (!seen.insert(given.name).second) return unexpected(Refusal{Reason::kDuplicateParameter, p->name});
    auto ok = check_value(*p, given.value);
    if (!ok) return unexpected(Refusal{ok.error(), p->name});
  }
  return check_missing(**spec, seen);
}

}  // namespace armored::command
