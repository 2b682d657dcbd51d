#pragma once
// How a component adds its subcommands to `armored`, and how an error leaves
// them.
//
// Each src/cli/<name>_command.cpp defines add_<name>(), which adds a CLI11
// subcommand; main.cpp lists them once, in --help order (kCommands).
//
// Exit codes are uniform:
//   0  the operation succeeded (or the check passed),
//   1  the operation ran and failed (a check found problems, a peer refused,
//      a port was taken, a database would not open),
//   2  bad usage or bad input (a missing or malformed file, a bad option).
// An armored::Error's kind decides between 1 and 2 (common/result.h).
//
// An error is reported once, on stderr, as one line:
//   armored: <component>: <message> (<code>)
// e.g. "armored: store: cannot open cloud.db: unable to open database file
// (unavailable)". A message-only error (fail("...") in a component, or the
// CLI's own UsageError and OperationFailed) has neither component nor code:
//   armored: <message>
// With --json the same error is also printed on stdout, where --json puts
// every machine-readable result, as one JSON object on one line:
//   {"error":{"component":"store","code":"unavailable","message":"...","exit_code":1}}
// A message-only error there has component "armored" and, as code, its
// kind: "bad_input" (exit 2) or "failed" (exit 1). Codes are stable snake_case
// names; a script branches on component and code, never on the message.

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <utility>

#include "common/result.h"

namespace armored::cli {

struct Context {
  bool json = false;              // --json: machine-readable output on stdout
  std::string log_level = "warn";  // --log-level
  int exit_code = 0;              // set by the subcommand that ran
};

// The one way an error leaves a subcommand: throw Failure(e) with an
// armored::Error or any component error that converts to one (pki::Error,
// store::StoreError, e3::E3Error, ...). main prints it and exits by its kind.
class Failure : public std::runtime_error {
 public:
  explicit Failure(Error error) : std::runtime_error(error.message), error_(std::move(error)) {}
  template <ConvertsToError E>
  explicit Failure(const E& e) : Failure(to_error(e)) {}
  // The same, naming where it happened: "<context>: <message>".
  template <ConvertsToError E>
  Failure(std::string_view context, const E& e) : Failure(fail(context, e).error) {}

  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Bad usage or input the CLI itself finds (an option out of range, files
// that contradict each other): exit 2.
class UsageError : public Failure {
 public:
  explicit UsageError(std::string message) : Failure(Error{std::move(message), {}, {}, ErrorKind::kBadInput}) {}
};

// A step that can only fail at run time failed (a query, a listen, a peer
// that did not answer): exit 1, whatever kind the error had. A component
// error keeps its component and code.
class OperationFailed : public Failure {
 public:
  explicit OperationFailed(std::string message) : Failure(Error{std::move(message), {}, {}, ErrorKind::kFailed}) {}
  template <ConvertsToError E>
  explicit OperationFailed(const E& e) : Failure(as_failed(to_error(e))) {}

 private:
  static Error as_failed(Error e) {
    e.kind = ErrorKind::kFailed;
    return e;
  }
};

// 1 for ErrorKind::kFailed, 2 for ErrorKind::kBadInput.
int exit_code_for(const Error& e);

// The subcommands; main.cpp adds them in --help order.
void add_quickstart(CLI::App& app, Context& ctx);
void add_pki(CLI::App& app, Context& ctx);
void add_enroll(CLI::App& app, Context& ctx);
void add_cloud(CLI::App& app, Context& ctx);
void add_command(CLI::App& app, Context& ctx);
void add_gateway(CLI::App& app, Context& ctx);
void add_fleet(CLI::App& app, Context& ctx);
void add_status(CLI::App& app, Context& ctx);
void add_e3(CLI::App& app, Context& ctx);
void add_energy(CLI::App& app, Context& ctx);
void add_report(CLI::App& app, Context& ctx);
void add_audit(CLI::App& app, Context& ctx);
void add_version(CLI::App& app, Context& ctx);

}  // namespace armored::cli
