// `armored quickstart DIR`: one command from nothing to a setup the README's
// walkthrough runs: PKI, enrolment, cloud.toml and gateway.toml on free
// ports, and the commands to start it, printed so they work as printed.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "common/clock.h"
#include "common/rng.h"
#include "quickstart/quickstart.h"

namespace {

using namespace armored;
namespace fs = std::filesystem;
using nlohmann::json;

// A word as a POSIX shell reads it back unchanged.
std::string shell_word(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:+@%,") ==
                        std::string::npos) {
    return w;
  }
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// "armored" when that name on PATH is this program, else this program's
// absolute path: the printed commands must run as printed.
std::string program_name() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "armored";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    const fs::path candidate = fs::path(d.empty() ? "." : d) / "armored";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return fs::equivalent(candidate, self, ec) ? "armored" : shell_word(self.string());
    }
  }
  return shell_word(self.string());
}

}  // namespace

namespace armored::cli {

void add_quickstart(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<quickstart::Options>();
  auto dir = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "quickstart", "Make a working directory: PKI, enrolment, cloud and gateway configs on free ports");
  cmd->footer(
      "Creates DIR (0700) with a fleet PKI (the cloud, gateway gw1 and --devices wearables\n"
      "wearable-0001.., each with its own key, 0600), their E3 enrolment, and cloud.toml and\n"
      "gateway.toml on 127.0.0.1 ports that were free when they were written. Then prints the\n"
      "commands that start the cloud, the gateway and the fleet, and one that sends a command;\n"
      "run them from DIR. A non-empty DIR is refused (exit 2) unless --force, which removes only\n"
      "what a quickstart makes there (pki/, e3/, the configs, armored.db, spools, state).");
  cmd->add_option("dir", *dir, "Directory to create (or an empty one)")->required()->type_name("DIR");
  cmd->add_option("--devices", o->devices, "Wearables to issue and enrol")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "Use a non-empty DIR, replacing what a quickstart makes there");
  cmd->callback([o, dir, &ctx] {
    o->dir = *dir;
    SystemRng rng;
    auto setup = quickstart::create(*o, SystemClock().now(), rng, [](std::string_view step) {
      std::cerr << "quickstart: " << step << std::endl;
    });
    if (!setup) {
      if (setup.error().code == quickstart::ErrorCode::kFailed) throw cli::OperationFailed(setup.error().message);
      throw cli::UsageError(setup.error().message);
    }
    const auto& s = *setup;
    const auto next = quickstart::next_commands(s, program_name());
    const std::string cd = "cd " + shell_word(*dir);
    if (ctx.json) {
      std::cout << json{{"dir", s.dir.string()},
                        {"cloud", {{"config", s.cloud_config.string()}, {"address", "127.0.0.1"}, {"port", s.cloud_port}}},
                        {"gateway",
                         {{"id", s.gateway_id},
                          {"config", s.gateway_config.string()},
                          {"address", "127.0.0.1"},
                          {"port", s.gateway_port}}},
                        {"devices", {{"count", s.devices}, {"first", s.first_device}, {"last", s.last_device}}},
                        {"ports_free_at_creation", true},
                        {"removed", s.removed},
                        {"commands",
                         {{"cd", cd},
                          {"cloud", next.cloud},
                          {"gateway", next.gateway},
                          {"fleet", next.fleet},
                          {"command", next.command}}}}
                       .dump()
                << "\n";
      return;
    }
    std::cout << "Created " << s.dir.string() << " (owner-only):\n";
    if (!s.removed.empty()) {
      std::cout << "  removed first (--force):";
      for (const auto& r : s.removed) std::cout << " " << r;
      std::cout << "\n";
    }
    const std::string wearables = s.devices == 1 ? "1 wearable, " + s.first_device
                                                 : std::to_string(s.devices) + " wearables " + s.first_device + " .. " +
                                                       s.last_device;
    std::cout << "  pki/          fleet CA; the cloud, gateway " << s.gateway_id << " and " << wearables
              << ", each with its own key (0600)\n"
              << "  e3/           E3 enrolment: each wearable's key ID and the cloud's E3 key (0600)\n"
              << "  cloud.toml    TLS 1.3 + MQTT on 127.0.0.1:" << s.cloud_port
              << ", readings in armored.db, admin socket cloud.sock\n"
              << "  gateway.toml  UDP 127.0.0.1:" << s.gateway_port << ", forwards to localhost:" << s.cloud_port << "\n"
              << "Both ports were free when the files were written; if another program takes one\n"
              << "first, the cloud or gateway says so when it starts: change it in the .toml.\n"
              << "\n"
              << "Start each in its own terminal (the cloud and gateway run until Ctrl-C, the fleet 10 minutes):\n"
              << "  " << cd << " && " << next.cloud << "\n"
              << "  " << cd << " && " << next.gateway << "\n"
              << "  " << cd << " && " << next.fleet << "\n"
              << "Then, once the fleet has sent a reading, send " << s.first_device << " a command and wait for its answer:\n"
              << "  " << cd << " && " << next.command << "\n";
  });
}

}  // namespace armored::cli
