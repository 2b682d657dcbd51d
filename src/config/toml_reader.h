#pragma once
// Typed, checked access to TOML configuration files. Every error names the
// file, the line and the key, and says what was expected, so a user can fix
// a config from the message alone. Unknown keys are errors too (a typo must
// not silently fall back to a default).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace armored::config {

class TomlDocument;

// A path from a config file: absolute as written, relative ones taken
// relative to the config file's directory `base`; "" stays "".
std::filesystem::path resolve_path(const std::filesystem::path& base, const std::string& p);

// A view of one table ("" for the root) of a parsed document.
class TomlSection {
 public:
  // Required values.
  Status get(std::string_view key, std::string& out_);
  Status get(std::string_view key, double& out_, double min, double max);
  Status get(std::string_view key, std::int64_t& out_, std::int64_t min, std::int64_t max);
  Status get(std::string_view key, bool& out_);
  Status get(std::string_view key, std::vector<std::string>& out_);
  // Optional values: absent leaves `out_` unchanged (holding its default).
  Status get_optional(std::string_view key, std::string& out_);
  Status get_optional(std::string_view key, double& out_, double min, double max);
  Status get_optional(std::string_view key, std::int64_t& out_, std::int64_t min, std::int64_t max);
  Status get_optional(std::string_view key, bool& out_);
  Status get_optional(std::string_view key, std::vector<std::string>& out_);
  // One of `allowed`.
  Status get_optional_choice(std::string_view key, std::string& out_,
                             const std::vector<std::string>& allowed);
  // An IPv4 or IPv6 address literal (a host name is not accepted: a listener
  // binds an address).
  Status get_optional_ip_address(std::string_view key, std::string& out_);
  bool has(std::string_view key) const;
  // Fails naming the first key of this table that no getter asked for.
  Status reject_unknown_keys() const;

 private:
  friend class TomlDocument;
  TomlSection(const TomlDocument* doc, const toml::table* table, std::string name)
      : doc_(doc), table_(table), name_(std::move(name)) {}
  std::string where(std::string_view key) const;
  const TomlDocument* doc_;
  const toml::table* table_;  // null when the section is absent
  std::string name_;
  std::set<std::string, std::less<>> seen_;
};

class TomlDocument {
 public:
  // Parses text; `source` names it in messages (usually the file path).
  static Result<TomlDocument, Error> parse(std::string_view text, std::string source);
  static Result<TomlDocument, Error> load(const std::string& path);

  TomlDocument(TomlDocument&&) noexcept;
  TomlDocument& operator=(TomlDocument&&) noexcept;
  ~TomlDocument();

  // The root table ("") or a named table; an absent table reads as empty.
  TomlSection section(std::string_view name) const;
  // Fails naming the first top-level table that is not in `known`.
  Status reject_unknown_sections(const std::vector<std::string>& known) const;
  const std::string& source() const { return source_; }

 private:
  TomlDocument() = default;
  friend class TomlSection;
  std::string source_;
  std::unique_ptr<toml::table> root_;
};

}  // namespace armored::config
