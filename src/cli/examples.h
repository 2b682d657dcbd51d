#pragma once
// An example command line at the end of every --help page: the commands
// and their examples in one table, so that a new command without one is
// visible here (and fails tests/cli/help_examples_test.cpp).

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace armored::cli {

// Appends "Example(s):" to the footer of each command in the table that
// does not show one already. Returns the table's command paths that name
// no command (empty when the table and the program agree).
std::vector<std::string> add_examples(CLI::App& root);

}  // namespace armored::cli
