// armored: the single command-line program. Subcommands live in
// *_command.cpp beside this file and register themselves.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "cli/examples.h"
#include "cli/near_miss.h"
#include "common/log.h"

namespace armored::cli {

namespace {
std::vector<std::pair<int, AddCommand>>& registry() {
  static std::vector<std::pair<int, AddCommand>> r;
  return r;
}
}  // namespace

bool register_command(int order, AddCommand add) {
  registry().emplace_back(order, std::move(add));
  return true;
}

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
  app.add_flag("--json", ctx.json, "Print machine-readable JSON on stdout");
  app.add_option("--log-level", ctx.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.fallthrough();
  // Logging starts once the global options are known, before any subcommand runs.
  app.parse_complete_callback([&ctx] { armored::init_logging(ctx.log_level); });

  auto& reg = armored::cli::registry();
  std::stable_sort(reg.begin(), reg.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, add] : reg) add(app, ctx);
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
    std::cerr << "armored: " << (why.empty() ? std::string(e.what()) : why) << " (see --help)\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "armored: " << e.what() << "\n";
    return 2;
  } catch (const OperationFailed& e) {
    std::cerr << "armored: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "armored: " << e.what() << "\n";
    return 2;
  }
  return ctx.exit_code;
}
