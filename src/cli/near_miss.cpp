#include "cli/near_miss.h"

#include <algorithm>

#include "cli/app_tree.h"

namespace armored::cli {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: Levenshtein plus adjacent swaps
  // ("isue" -> "issue" is one edit, "cluod" -> "cloud" too).
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  if (!best.empty() && best_d <= 2 && best_d * 2 < std::max<std::size_t>(word.size(), 2)) return best;
  // "--conf" for "--config": an unambiguous prefix.
  std::string prefixed;
  for (const auto& c : candidates) {
    if (word.size() >= 2 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) {
      if (!prefixed.empty()) return "";
      prefixed = c;
    }
  }
  return prefixed;
}

namespace {

std::string path_of(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

// The long options valid at `app`: its own and, as `fallthrough` allows, its parents'.
std::vector<std::string> long_options(const CLI::App* app) {
  std::vector<std::string> out;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& n : o->get_lnames()) out.push_back("--" + n);
    }
  }
  return out;
}

const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    if (const CLI::Option* o = a->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

}  // namespace

std::string explain_unknown_word(const CLI::App& root, int argc, const char* const* argv) {
  const CLI::App* cur = &root;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* o = find_option(cur, name);
      if (o == nullptr) {
        const std::string near = nearest(name, long_options(cur));
        return "unknown option '" + name + "' for '" + path_of(cur) + "'" +
               (near.empty() ? "" : " (did you mean '" + near + "'?)");
      }
      // Its value is the next word unless given as --name=value.
      if (arg.find('=') == std::string::npos && o->get_expected_max() > 0 && i + 1 < argc) ++i;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      const CLI::Option* o = find_option(cur, arg.substr(0, 2));
      if (o != nullptr && arg.size() == 2 && o->get_expected_max() > 0 && i + 1 < argc) ++i;
      continue;
    }
    const auto subs = cur->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) continue;  // a positional argument
    if (const CLI::App* next = find_subcommand(*cur, arg)) {
      cur = next;
      continue;
    }
    std::vector<std::string> names;
    for (const CLI::App* s : subs) names.push_back(s->get_name());
    // A positional argument of a command that also has subcommands is not a typo.
    if (!cur->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) continue;
    const std::string near = nearest(arg, names);
    std::string all;
    for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
    return "unknown command '" + arg + "' for '" + path_of(cur) + "'" +
           (near.empty() ? "; commands: " + all : " (did you mean '" + near + "'?)");
  }
  // Every word known, but the last command needs one of its own.
  const auto subs = cur->get_subcommands([](const CLI::App*) { return true; });
  if (!subs.empty() && cur->get_require_subcommand_min() > 0) {
    std::string all;
    for (const CLI::App* s : subs) all += (all.empty() ? "" : ", ") + s->get_name();
    return "'" + path_of(cur) + "' needs a command: " + all;
  }
  return "";
}

}  // namespace armored::cli
