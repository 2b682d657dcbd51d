#include "audit/config_assignments.h"

#include <cctype>
#include <optional>
#include <regex>

namespace armored::audit {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}
bool is_quote(char c) { return c == '"' || c == '\''; }

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// Length of the identifier at the start of `s` (0 if none).
std::size_t name_length(std::string_view s) {
  if (s.empty() || !is_name_start(s[0])) return 0;
  std::size_t n = 1;
  while (n < s.size() && is_name_char(s[n])) ++n;
  return n;
}

bool starts_with_word(std::string_view s, std::size_t i, std::string_view word) {
  if (s.substr(i, word.size()) != word) return false;
  std::size_t after = i + word.size();
  return after < s.size() && is_space(s[after]);
}

// Removes one pair of matching outer quotes, moving `column` with the text.
void unquote(std::string_view& s, std::size_t& column) {
  if (s.size() >= 2 && is_quote(s.front()) && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
    ++column;
  }
}

// The value starting at column `i`: a quoted string (when allowed), or one
// unquoted word that ends the line or is followed by whitespace and a
// comment. A word followed by more words is prose ("password: at least 8
// characters"), not a value. YAML tags, anchors, aliases, block scalars and
// flow collections are not scalars.
std::optional<ConfigAssignment> value_at(std::string_view line, std::size_t i, bool allow_quoted) {
  if (i >= line.size()) return std::nullopt;
  char c = line[i];
  if (is_quote(c)) {
    if (!allow_quoted) return std::nullopt;
    auto close = line.find(c, i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    return ConfigAssignment{{}, i + 1, line.substr(i + 1, close - i - 1)};
  }
  constexpr std::string_view kNotScalar = "#;!|>&*[{`";
  if (kNotScalar.find(c) != std::string_view::npos) return std::nullopt;
  std::size_t end = i;
  while (end < line.size() && !is_space(line[end])) ++end;
  std::size_t rest = skip_space(line, end);
  if (rest < line.size() && line[rest] != '#' && line[rest] != ';') return std::nullopt;
  return ConfigAssignment{{}, i, line.substr(i, end - i)};
}

// `[- ][export ]NAME op value` with op one of = : := ?= +=
void key_value_form(std::string_view line, std::vector<ConfigAssignment>& out) {
  std::size_t i = skip_space(line, 0);
  if (line.substr(i, 2) == "- ") i = skip_space(line, i + 2);
  if (starts_with_word(line, i, "export")) i = skip_space(line, i + 6);
  char quote = 0;
  if (i < line.size() && is_quote(line[i])) quote = line[i++];
  std::size_t n = name_length(line.substr(i));
  if (n == 0) return;
  std::string name(line.substr(i, n));
  // systemd's Environment= holds assignments itself: the word form reads them.
  if (name == "Environment") return;
  i += n;
  if (quote != 0) {
    if (i >= line.size() || line[i] != quote) return;
    ++i;
  }
  std::size_t after_name = i;
  i = skip_space(line, i);
  auto op = line.substr(i, 2);
  if (op == ":=" || op == "?=" || op == "+=") {
    i += 2;
  } else if (i < line.size() && (line[i] == '=' || line[i] == ':')) {
    i += 1;
  } else if (quote == 0 && i > after_name && name.find_first_of("_-.") != std::string::npos) {
    // `remote_password value` (mosquitto.conf, ssh/nginx-style files): a
    // compound key and one word. Plain words ("password reset") are prose.
  } else {
    return;
  }
  auto v = value_at(line, skip_space(line, i), false);
  if (!v || v->value.empty()) return;
  v->name = std::move(name);
  out.push_back(std::move(*v));
}

struct Word {
  std::size_t begin;
  std::size_t end;
};

// Shell words: whitespace-separated, quotes group, a word starting with '#'
// starts a comment.
std::vector<Word> shell_words(std::string_view line) {
  std::vector<Word> words;
  std::size_t i = 0;
  while ((i = skip_space(line, i)) < line.size()) {
    if (line[i] == '#') break;
    std::size_t b = i;
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (is_quote(c)) {
        quote = c;
      } else if (is_space(c)) {
        break;
      }
    }
    words.push_back({b, i});
  }
  return words;
}

// After `--name value`, a command line goes on with another flag, a
// continuation or an operator, or ends; a message ("--psk given but no key
// specified") goes on with prose.
bool ends_arguments(std::string_view line, const std::vector<Word>& words, std::size_t next) {
  if (next >= words.size()) return true;
  std::string_view w = line.substr(words[next].begin, words[next].end - words[next].begin);
  return w.starts_with("-") || w == "\\" || w == "|" || w == "||" || w == "&&" || w == ";" || w.starts_with(">");
}

// NAME=value words anywhere on the line (export, env, ENV, ARG, docker -e,
// systemd Environment=, compose list items), `--name=value` and
// `--name value` flags, and Dockerfile's legacy `ENV NAME value`.
void shell_word_form(std::string_view line, bool flag_values, std::vector<ConfigAssignment>& out) {
  auto words = shell_words(line);
  for (std::size_t w = 0; w < words.size(); ++w) {
    std::size_t column = words[w].begin;
    std::string_view t = line.substr(column, words[w].end - column);
    unquote(t, column);
    bool flag = t.starts_with("--");
    if (flag) {
      t.remove_prefix(2);
      column += 2;
    }
    constexpr std::string_view kSystemd = "Environment=";
    if (t.starts_with(kSystemd)) {
      t.remove_prefix(kSystemd.size());
      column += kSystemd.size();
      unquote(t, column);
    }
    std::size_t n = name_length(t);
    if (n == 0) continue;
    std::string name(t.substr(0, n));
    if (n < t.size() && t[n] == '=') {
      std::string_view v = t.substr(n + 1);
      std::size_t vcol = column + n + 1;
      unquote(v, vcol);
      if (!v.empty()) out.push_back({std::move(name), vcol, v});
    } else if (flag && flag_values && n == t.size() && w + 1 < words.size() && ends_arguments(line, words, w + 2)) {
      std::size_t vcol = words[w + 1].begin;
      std::string_view v = line.substr(vcol, words[w + 1].end - vcol);
      unquote(v, vcol);
      if (!v.empty() && v.front() != '-') out.push_back({std::move(name), vcol, v});
    }
  }
  if (words.size() == 3) {
    std::string_view kw = line.substr(words[0].begin, words[0].end - words[0].begin);
    std::string_view name = line.substr(words[1].begin, words[1].end - words[1].begin);
    if ((kw == "ENV" || kw == "env") && name_length(name) == name.size()) {
      std::size_t vcol = words[2].begin;
      std::string_view v = line.substr(vcol, words[2].end - vcol);
      unquote(v, vcol);
      if (!v.empty()) out.push_back({std::string(name), vcol, v});
    }
  }
}

// Column just after `key:` when the line is `[- ]key: ...`, else npos.
std::size_t after_key(std::string_view line, std::string_view key) {
  std::size_t i = skip_space(line, 0);
  if (line.substr(i, 2) == "- ") i = skip_space(line, i + 2);
  if (line.substr(i, key.size()) != key) return std::string_view::npos;
  i += key.size();
  if (i >= line.size() || line[i] != ':') return std::string_view::npos;
  return skip_space(line, i + 1);
}

}  // namespace

std::vector<ConfigAssignment> config_assignments(std::string_view line, bool flag_values) {
  std::vector<ConfigAssignment> out;
  key_value_form(line, out);
  if (line.find('=') != std::string_view::npos || line.find("ENV") != std::string_view::npos ||
      line.find("--") != std::string_view::npos) {
    shell_word_form(line, flag_values, out);
  }
  return out;
}

ConfigAssignment name_value_entry(std::string_view line) {
  if (line.find("value") == std::string_view::npos || line.find("name") == std::string_view::npos) return {};
  static const std::regex kEntry(
      R"re(["']?\bname["']?\s*[:=]\s*["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*,\s*["']?value["']?\s*[:=]\s*(?:"([^"]*)"|'([^']*)'|([^\s,}"']+)))re",
      std::regex::ECMAScript | std::regex::optimize);
  std::string text(line);
  std::smatch m;
  if (!std::regex_search(text, m, kEntry)) return {};
  for (int g = 2; g <= 4; ++g) {
    if (!m[g].matched) continue;
    auto col = static_cast<std::size_t>(m.position(g));
    return {m.str(1), col, line.substr(col, static_cast<std::size_t>(m.length(g)))};
  }
  return {};
}

ConfigAssignment EnvEntryTracker::feed(std::string_view line) {
  if (auto i = after_key(line, "name"); i != std::string_view::npos) {
    std::string_view rest = line.substr(i);
    std::size_t col = 0;
    while (!rest.empty() && is_space(rest.back())) rest.remove_suffix(1);
    unquote(rest, col);
    if (!rest.empty() && name_length(rest) == rest.size()) {
      name_ = std::string(rest);
      lines_left_ = 2;
      return {};
    }
  }
  if (lines_left_ <= 0) return {};
  --lines_left_;
  if (after_key(line, "valueFrom") != std::string_view::npos) {
    lines_left_ = 0;
    return {};
  }
  auto i = after_key(line, "value");
  if (i == std::string_view::npos) return {};
  lines_left_ = 0;
  auto v = value_at(line, i, true);
  if (!v || v->value.empty()) return {};
  v->name = name_;
  return *v;
}

}  // namespace armored::audit
