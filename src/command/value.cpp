#include "command/value.h"

#include <algorithm>
#include <charconv>

namespace armored::command {

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "int";
    case ParamType::kFloat: return "float";
    case ParamType::kBool: return "bool";
    case ParamType::kEnum: return "enum";
    case ParamType::kString: return "string";
  }
  return "unknown";
}

const char* to_string(Outcome o) { return o == Outcome::kAccepted ? "accepted" : "refused"; }

bool Value::operator==(const Value& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kInt: return i == o.i;
    case Kind::kFloat: return f == o.f;
    case Kind::kBool: return b == o.b;
    case Kind::kText: return text == o.text;
  }
  return false;
}

std::string to_display(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kInt: return std::to_string(v.i);
    case Value::Kind::kFloat: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, v.f);
      return std::string(buf, r.ptr);
    }
    case Value::Kind::kBool: return v.b ? "true" : "false";
    case Value::Kind::kText: return "\"" + printable(v.text, 256) + "\"";
  }
  return "";
}

const Value* Command::find(std::string_view param) const {
  for (const auto& p : params) {
    if (p.name == param) return &p.value;
  }
  return nullptr;
}

bool Reply::operator==(const Reply& o) const {
  if (command_id != o.command_id || outcome != o.outcome || result != o.result) return false;
  return outcome == Outcome::kAccepted || reason == o.reason;
}

// Deterministic CBOR sorts map keys by their encoded bytes; for text keys
// shorter than 256 bytes that is: shorter first, then bytewise.
bool canonical_less(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  });
}

void canonical_sort(std::vector<Param>& params) {
  std::sort(params.begin(), params.end(),
            [](const Param& a, const Param& b) { return canonical_less(a.name, b.name); });
}

}  // namespace armored::command
