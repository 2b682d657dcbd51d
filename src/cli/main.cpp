// armored: the single command-line program. Subcommands live in
// *_command.cpp beside this file; kCommands below lists them.

#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "cli/examples.h"
#include "cli/near_miss.h"
#include "common/log.h"

namespace armored::cli {

int exit_code_for(const Error& e) { return e.kind == ErrorKind::kFailed ? 1 : 2; }

namespace {

// Every subcommand, in the order `armored --help` lists them: first run,
// then the programs of a deployment in the order a reading meets them, then
// the tools.
constexpr void (*kCommands[])(CLI::App&, Context&) = {
    add_quickstart, add_pki,    add_enroll, add_cloud,  add_command, add_gateway, add_fleet,
    add_status,     add_e3,     add_energy, add_report, add_audit,   add_version,
};

// The one place an error is printed (the format is in command.h). Returns
// the exit code.
int report(const Error& e, bool json) {
  const int code = exit_code_for(e);
  if (e.component.empty()) {
    std::cerr << "armored: " << e.message << "\n";
  } else {
    std::cerr << "armored: " << e.component << ": " << e.message << " (" << e.code << ")\n";
  }
  if (json) {
    const std::string kind = code == 1 ? "failed" : "bad_input";
    nlohmann::json j{{"component", e.component.empty() ? std::string("armored") : std::string(e.component)},
                     {"code", e.code.empty() ? kind : std::string(e.code)},
                     {"message", e.message},
                     {"exit_code", code}};
    std::cout << nlohmann::json{{"error", j}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << std::endl;
  }
  return code;
}

// --json among the global options, read from argv: a usage error stops the
// parse before CLI11 has set the flag.
bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

}  // namespace
}  // namespace armored::cli

int main(int argc, char** argv) {
  using namespace armored::cli;
  Context ctx;
  CLI::App app{
      "Armored: IoT telemetry sealed end to end (E3) and carried over mutual TLS 1.3 (E4).\n"
      "Devices seal readings for the cloud; gateways forward what they cannot read.",
      "armored"};
  app.set_version_flag("--version", "armored 0.1.0");
  app.require_subcommand(1);
  app.add_flag("--json", ctx.json, "Print machine-readable JSON on stdout (errors too)");
  app.add_option("--log-level", ctx.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.fallthrough();
  // Logging starts once the global options are known, before any subcommand runs.
  app.parse_complete_callback([&ctx] { armored::init_logging(ctx.log_level); });

  for (auto add : kCommands) add(app, ctx);
  (void)add_examples(app);  // tests/cli check that every command has one

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one line naming what was wrong, exit 2. A mistyped
    // command or option is named with the nearest valid one, rather than as
    // the "required" error it causes further on.
    const std::string why = explain_unknown_word(app, argc, argv);
    return report({(why.empty() ? std::string(e.what()) : why) + " (see --help)"}, json_requested(argc, argv));
  } catch (const Failure& e) {
    return report(e.error(), ctx.json || json_requested(argc, argv));
  } catch (const std::exception& e) {
    // Nothing classified it, so it is not the user's input: a failure.
    return report({e.what(), {}, {}, armored::ErrorKind::kFailed}, ctx.json || json_requested(argc, argv));
  }
  return ctx.exit_code;
}
