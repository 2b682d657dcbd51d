#pragma once
// Finding a command in the CLI11 tree by name, for the code that walks it
// after it is built (examples.cpp, near_miss.cpp).

#include <CLI/CLI.hpp>

#include <string_view>

namespace armored::cli {

// The direct subcommand of `app` called `name` (or one of its aliases), or nullptr.
const CLI::App* find_subcommand(const CLI::App& app, std::string_view name);
CLI::App* find_subcommand(CLI::App& app, std::string_view name);

// The command at `path`, subcommand names separated by spaces ("pki fleet";
// "" is `app` itself), or nullptr.
CLI::App* find_command(CLI::App& app, std::string_view path);

}  // namespace armored::cli
