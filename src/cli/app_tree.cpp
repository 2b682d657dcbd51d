#include "cli/app_tree.h"

#include <sstream>
#include <string>

namespace armored::cli {

const CLI::App* find_subcommand(const CLI::App& app, std::string_view name) {
  const std::string n(name);
  const auto subs = app.get_subcommands([&n](const CLI::App* s) { return s->check_name(n); });
  return subs.empty() ? nullptr : subs.front();
}

CLI::App* find_subcommand(CLI::App& app, std::string_view name) {
  // The tree is the caller's to change; only the search is const.
  return const_cast<CLI::App*>(find_subcommand(static_cast<const CLI::App&>(app), name));
}

CLI::App* find_command(CLI::App& app, std::string_view path) {
  CLI::App* cur = &app;
  std::istringstream words{std::string(path)};
  std::string w;
  while (cur != nullptr && words >> w) cur = find_subcommand(*cur, w);
  return cur;
}

}  // namespace armored::cli
