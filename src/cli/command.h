#pragma once
// How a component adds its subcommands to `armored`.
//
// Each src/cli/<name>_command.cpp defines a function that adds a CLI11
// subcommand and registers it with ARMORED_COMMAND. Exit codes are uniform:
//   0  the operation succeeded (or the check passed),
//   1  the operation ran and failed (a check found problems, a peer refused),
//   2  bad usage or bad input; one line on stderr names what was wrong.

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace armored::cli {

struct Context {
  bool json = false;              // --json: machine-readable output on stdout
  std::string log_level = "warn";  // --log-level
  int exit_code = 0;              // set by the subcommand that ran
};

// Thrown (at start-up and config load only) for bad usage or input: exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when the operation itself failed: exit 1.
class OperationFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using AddCommand = std::function<void(CLI::App& app, Context& ctx)>;

// Registers a subcommand builder; `order` sorts --help (lower first).
bool register_command(int order, AddCommand add);

}  // namespace armored::cli

#define ARMORED_CLI_CONCAT2(a, b) a##b
#define ARMORED_CLI_CONCAT(a, b) ARMORED_CLI_CONCAT2(a, b)
#define ARMORED_COMMAND(order, fn) \
  static const bool ARMORED_CLI_CONCAT(armored_cmd_registered_, __LINE__) = \
      ::armored::cli::register_command(order, fn)
