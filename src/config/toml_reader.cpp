#include "config/toml_reader.h"

#include <arpa/inet.h>

#include <toml++/toml.h>

#include <cmath>

#include "common/file_io.h"

namespace armored::config {

namespace {

std::string describe(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

}  // namespace

std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& p) {
  if (p.empty()) return {};
  std::filesystem::path x(p);
  return x.is_absolute() ? x : base / x;
}

std::string TomlSection::where(std::string_view key) const {
  std::string w = doc_->source_;
  if (table_) {
    if (const toml::node* n = table_->get(key)) {
      w += ":" + std::to_string(n->source().begin.line);
    }
  }
  w += ": ";
  if (!name_.empty()) w += name_ + ".";
  w += key;
  return w;
}

bool TomlSection::has(std::string_view key) const { return table_ && table_->contains(key); }

Status TomlSection::get_optional(std::string_view key, std::string& out_) {
  seen_.emplace(key);
  if (!has(key)) return {};
  auto v = table_->get(key)->value<std::string>();
  if (!v || !table_->get(key)->is_string()) return fail(where(key) + " must be a string");
  out_ = *v;
  return {};
}

Status TomlSection::get_optional(std::string_view key, double& out_, double min, double max) {
  seen_.emplace(key);
  if (!has(key)) return {};
  const toml::node* n = table_->get(key);
  if (!n->is_number()) return fail(where(key) + " must be a number");
  double v = *n->value<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return fail(where(key) + " is " + describe(v) + ", must be between " + describe(min) +
                " and " + describe(max));
  }
  out_ = v;
  return {};
}

Status TomlSection::get_optional(std::string_view key, std::int64_t& out_, std::int64_t min,
                                 std::int64_t max) {
  seen_.emplace(key);
  if (!has(key)) return {};
  const toml::node* n = table_->get(key);
  if (!n->is_integer()) return fail(where(key) + " must be a whole number");
  std::int64_t v = *n->value<std::int64_t>();
  if (v < min || v > max) {
    return fail(where(key) + " is " + std::to_string(v) + ", must be between " +
                std::to_string(min) + " and " + std::to_string(max));
  }
  out_ = v;
  return {};
}

Status TomlSection::get_optional(std::string_view key, bool& out_) {
  seen_.emplace(key);
  if (!has(key)) return {};
  const toml::node* n = table_->get(key);
  if (!n->is_boolean()) return fail(where(key) + " must be true or false");
  out_ = *n->value<bool>();
  return {};
}

Status TomlSection::get_optional(std::string_view key, std::vector<std::string>& out_) {
  seen_.emplace(key);
  if (!has(key)) return {};
  const toml::array* a = table_->get(key)->as_array();
  if (!a) return fail(where(key) + " must be an array of strings");
  std::vector<std::string> v;
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s || !e.is_string()) return fail(where(key) + " must be an array of strings");
    v.push_back(*s);
  }
  out_ = std::move(v);
  return {};
}

Status TomlSection::get_optional_choice(std::string_view key, std::string& out_,
                                        const std::vector<std::string>& allowed) {
  std::string v = out_;
  ARMORED_TRY(get_optional(key, v));
  for (const auto& a : allowed) {
    if (a == v) {
      out_ = v;
      return {};
    }
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return fail(where(key) + " is '" + v + "', must be one of " + list);
}

Status TomlSection::get_optional_ip_address(std::string_view key, std::string& out_) {
  std::string v = out_;
  ARMORED_TRY(get_optional(key, v));
  in6_addr any{};
  if (::inet_pton(AF_INET, v.c_str(), &any) != 1 && ::inet_pton(AF_INET6, v.c_str(), &any) != 1) {
    return fail(where(key) + " is '" + v + "', not an IPv4 or IPv6 address (e.g. \"127.0.0.1\" or \"::\")");
  }
  out_ = v;
  return {};
}

Status TomlSection::get(std::string_view key, std::string& out_) {
  if (!has(key)) return fail(where(key) + " is missing");
  return get_optional(key, out_);
}
Status TomlSection::get(std::string_view key, double& out_, double min, double max) {
  if (!has(key)) return fail(where(key) + " is missing");
  return get_optional(key, out_, min, max);
}
Status TomlSection::get(std::string_view key, std::int64_t& out_, std::int64_t min,
                        std::int64_t max) {
  if (!has(key)) return fail(where(key) + " is missing");
  return get_optional(key, out_, min, max);
}
Status TomlSection::get(std::string_view key, bool& out_) {
  if (!has(key)) return fail(where(key) + " is missing");
  return get_optional(key, out_);
}
Status TomlSection::get(std::string_view key, std::vector<std::string>& out_) {
  if (!has(key)) return fail(where(key) + " is missing");
  return get_optional(key, out_);
}

Status TomlSection::reject_unknown_keys() const {
  if (!table_) return {};
  for (const auto& [k, v] : *table_) {
    if (v.is_table()) continue;  // sub-tables are sections of their own
    if (!seen_.contains(k.str())) {
      return fail(doc_->source_ + ":" + std::to_string(v.source().begin.line) + ": unknown key " +
                  (name_.empty() ? "" : name_ + ".") + std::string(k.str()));
    }
  }
  return {};
}

TomlDocument::TomlDocument(TomlDocument&&) noexcept = default;
TomlDocument& TomlDocument::operator=(TomlDocument&&) noexcept = default;
TomlDocument::~TomlDocument() = default;

Result<TomlDocument, Error> TomlDocument::parse(std::string_view text, std::string source) {
  TomlDocument d;
  d.source_ = std::move(source);
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  try {
    d.root_ = std::make_unique<toml::table>(toml::parse(text, d.source_));
  } catch (const toml::parse_error& e) {
    return fail(d.source_ + ":" + std::to_string(e.source().begin.line) + ": " +
                std::string(e.description()));
  }
  return d;
}

Result<TomlDocument, Error> TomlDocument::load(const std::string& path) {
  auto text = read_text_file(path, 1u << 20);
  if (!text) return unexpected(text.error());
  return parse(*text, path);
}

TomlSection TomlDocument::section(std::string_view name) const {
  if (name.empty()) return TomlSection(this, root_.get(), "");
  const toml::table* t = root_->get_as<toml::table>(name);
  return TomlSection(this, t, std::string(name));
}

Status TomlDocument::reject_unknown_sections(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : *root_) {
    if (!v.is_table()) continue;
    bool ok = false;
    for (const auto& n : known) ok = ok || n == k.str();
    if (!ok) {
      return fail(source_ + ":" + std::to_string(v.source().begin.line) + ": unknown section [" +
                  std::string(k.str()) + "]");
    }
  }
  return {};
}

}  // namespace armored::config
