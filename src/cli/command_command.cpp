// `armored command send|status`: device commands through the running
// cloud's local admin socket. The command is validated against the schema
// here first (exit 2 on bad input, nothing is sent), then again by the cloud
// and by the device.

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/command.h"
#include "cloud/admin_socket.h"
#include "cloud/command_service.h"
#include "cloud/config.h"
#include "command/schema.h"
#include "command/validate.h"
#include "pki/pki.h"

namespace {

using namespace armored;
using nlohmann::json;

struct Target {
  std::string device;
  std::string socket;
  std::string config;
};

void add_target_options(CLI::App* cmd, Target& t) {
  // Checked here too, not only by the cloud: a malformed id is bad input (exit 2).
  const CLI::Validator identity_id(
      [](std::string& v) {
        auto ok = pki::validate_id(v);
        return ok ? std::string() : ok.error().message;
      },
      "ID");
  cmd->add_option("--device", t.device, "Device id (e.g. wearable-0001)")->required()->check(identity_id);
  auto* s = cmd->add_option("--cloud-socket", t.socket, "The cloud's admin socket");
  auto* c = cmd->add_option("--config", t.config, "cloud.toml: its [admin] socket is used");
  s->excludes(c);
}

// The admin socket, and how long the cloud waits for an answer before it
// marks a command expired (unknown with --cloud-socket).
struct CloudSide {
  std::filesystem::path socket;
  std::optional<std::chrono::seconds> ack_timeout;
};

CloudSide cloud_side(const Target& t) {
  if (!t.socket.empty()) return {t.socket, std::nullopt};
  if (t.config.empty()) throw cli::UsageError("give --cloud-socket PATH or --config cloud.toml");
  auto c = cloud::load_cloud_config(t.config);
  if (!c) throw cli::Failure(c.error());
  return {c->admin.socket, c->admin.ack_timeout};
}

std::filesystem::path socket_path(const Target& t) { return cloud_side(t).socket; }

// What is true when --wait ran out: the command left the cloud and the
// cloud still matches a late answer to it until its ack timeout.
std::string no_answer(const Target& t, std::int64_t id, double waited_s,
                      const std::optional<std::chrono::seconds>& ack_timeout) {
  const std::string how_long =
      ack_timeout ? fmt::format("up to {} s after sending, then marks it expired", ack_timeout->count())
                  : std::string("until its [commands] ack_timeout_s, then marks it expired");
  const std::string where = t.config.empty() ? "--cloud-socket " + t.socket : "--config " + t.config;
  return fmt::format(
      "no answer from {} within {:g} s; command {} was sent and the cloud still takes its answer ({}): "
      "armored command status {} --device {}",
      t.device, waited_s, id, how_long, where, t.device);
}

json call(const std::filesystem::path& socket, const json& request) {
  auto r = cloud::admin_call(socket, request);
  if (!r) throw cli::OperationFailed(r.error());
  return std::move(*r);
}

// Untrusted text (from the store or the device) made safe for a terminal.
std::string shown(const json& j, std::size_t max = 48) {
  return command::printable(j.is_string() ? j.get<std::string>() : j.dump(), max);
}

bool final_status(const std::string& s) { return s == "acknowledged" || s == "failed" || s == "expired"; }

// Polls the cloud until command `id` is answered (or the time is up).
json wait_for(const std::filesystem::path& socket, const std::string& device, std::int64_t id, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  json last;
  for (;;) {
    json st = call(socket, {{"v", 1}, {"op", "status"}, {"device", device}, {"limit", 50}});
    if (!st.value("ok", false)) throw cli::OperationFailed(shown(st.value("message", json("")), 200));
    for (const auto& c : st["commands"]) {
      if (c.value("id", std::int64_t{0}) == id) last = c;
    }
    if (last.is_object() && final_status(last.value("status", std::string()))) return last;
    if (std::chrono::steady_clock::now() >= until) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void add_send(CLI::App* parent, cli::Context& ctx) {
  struct Opts {
    Target target;
    std::string commands;
    std::string name;
    std::vector<std::string> args;
    double wait_s = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = parent->add_subcommand("send", "Validate a command, then have the cloud seal and send it");
  add_target_options(cmd, o->target);
  cmd->add_option("--commands", o->commands, "Command schema (default: the shipped config/commands.toml)");
  cmd->add_option("--wait", o->wait_s, "Wait up to this many seconds for the device's answer")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("name", o->name, "Command name (e.g. set_interval)")->required();
  cmd->add_option("params", o->args, "Parameters as key=value");
  cmd->callback([o, &ctx] {
    std::optional<command::Schema> loaded;
    if (!o->commands.empty()) {
      auto s = command::Schema::load(o->commands);
      if (!s) throw cli::Failure(s.error());
      loaded.emplace(std::move(*s));
    }
    const command::Schema& schema = loaded ? *loaded : command::Schema::builtin();
    command::Validator validator(schema);
    auto c = validator.from_text(schema.default_device_type(), o->name, o->args);
    if (!c) throw cli::UsageError("command refused: " + command::to_string(c.error()));
    const auto side = cloud_side(o->target);
    const auto& socket = side.socket;
    json reply = call(socket, {{"v", 1},
                               {"op", "send"},
                               {"device", o->target.device},
                               {"command", c->name},
                               {"params", cloud::params_to_json(c->params)}});
    if (!reply.value("ok", false)) {
      if (ctx.json) std::cout << reply.dump(-1, ' ', true) << "\n";
      else std::cerr << "error: cloud refused: " << shown(reply.value("message", json("")), 200) << "\n";
      ctx.exit_code = 1;
      return;
    }
    const std::int64_t id = reply.value("id", std::int64_t{0});
    std::string status = "sent";
    json answer;
    if (o->wait_s > 0) {
      answer = wait_for(socket, o->target.device, id, o->wait_s);
      if (answer.is_object()) status = answer.value("status", status);
    }
    if (ctx.json) {
      json out = reply;
      out["status"] = status;
      if (answer.is_object()) out["reason"] = answer.value("reason", std::string());
      std::cout << out.dump(-1, ' ', true) << "\n";
    } else if (answer.is_object() && final_status(status)) {
      std::cout << fmt::format("command {} {} to {}: {}{}{}\n", id, c->name, o->target.device, status,
                               answer.value("reason", std::string()).empty() ? "" : " ",
                               shown(answer.value("reason", json("")), 120));
    } else {
      std::cout << fmt::format("command {} {} sent to {} via {}\n", id, c->name, o->target.device,
                               shown(reply.value("gateway", json(""))));
    }
    if (o->wait_s > 0 && !final_status(status)) {
      std::cout.flush();
      throw cli::OperationFailed(no_answer(o->target, id, o->wait_s, side.ack_timeout));
    }
    if (o->wait_s > 0 && status != "acknowledged") ctx.exit_code = 1;
  });
}

void add_command_status(CLI::App* parent, cli::Context& ctx) {
  struct Opts {
    Target target;
    std::size_t limit = 20;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = parent->add_subcommand("status", "Show a device's last commands and their outcomes");
  add_target_options(cmd, o->target);
  cmd->add_option("--limit", o->limit, "How many of the newest commands")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->callback([o, &ctx] {
    json reply = call(socket_path(o->target),
                      {{"v", 1}, {"op", "status"}, {"device", o->target.device}, {"limit", o->limit}});
    if (!reply.value("ok", false)) {
      std::cerr << "error: " << shown(reply.value("message", json("")), 200) << "\n";
      ctx.exit_code = reply.value("error", std::string()) == "unknown_device" ? 2 : 1;
      return;
    }
    if (ctx.json) {
      std::cout << reply.dump(-1, ' ', true) << "\n";
      return;
    }
    std::cout << fmt::format("{:>6}  {:<20} {:<24} {:<13} {}\n", "ID", "COMMAND", "PARAMS", "STATUS", "REASON");
    for (const auto& c : reply["commands"]) {
      std::cout << fmt::format("{:>6}  {:<20} {:<24} {:<13} {}\n", c.value("id", std::int64_t{0}),
                               shown(c.value("command", json("")), 20), shown(c.value("params", json::object()), 24),
                               shown(c.value("status", json(""))), shown(c.value("reason", json("")), 80));
    }
  });
}

}  // namespace

namespace armored::cli {

void add_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("command", "Send commands to devices through the cloud; show their outcomes");
  cmd->footer(
      "Commands are validated against the schema (config/commands.toml) here, again by the\n"
      "cloud and again by the device. The cloud seals each with E3 for the device and publishes\n"
      "it to the gateway the device was last seen through. Exit codes: 0 sent (or acknowledged\n"
      "with --wait), 1 the cloud or device refused it or it was not answered, 2 bad input.\n"
      "See docs/commands-admin.md.");
  cmd->require_subcommand(1);
  add_send(cmd, ctx);
  add_command_status(cmd, ctx);
}

}  // namespace armored::cli
