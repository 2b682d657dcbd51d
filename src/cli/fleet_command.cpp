// `armored fleet`: the device simulator, sending sealed readings to a gateway
// (or, with --direct, straight to the cloud).

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>

#include "cli/command.h"
#include "device/direct.h"
#include "device/fleet.h"
#include "gateway/config.h"

namespace {

using namespace armored;

double parse_duration_s(const std::string& s, const char* what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw cli::UsageError(std::string(what) + " '" + s + "' is not a duration (e.g. 30s, 5m)");
  }
  std::string unit = s.substr(used);
  double mult = unit.empty() || unit == "s" ? 1 : unit == "ms" ? 0.001 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (mult < 0 || !(v > 0)) throw cli::UsageError(std::string(what) + " '" + s + "' is not a positive duration");
  return v * mult;
}

// HOST:PORT; `what` names the option in the usage error.
std::pair<std::string, std::uint16_t> parse_host_port(const std::string& s, const char* what) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) throw cli::UsageError(std::string(what) + " must be HOST:PORT");
  try {
    int port = std::stoi(s.substr(colon + 1));
    if (port < 1 || port > 65535) throw std::out_of_range("port");
    return {s.substr(0, colon), static_cast<std::uint16_t>(port)};
  } catch (const std::exception&) {
    throw cli::UsageError(std::string(what) + " port must be 1..65535");
  }
}

void print_summary(const device::FleetSummary& r, device::SealerKind sealer, cli::Context& ctx,
                   const device::DirectSummary* direct) {
  const char* peer = direct ? "cloud" : "gateway";
  if (ctx.json) {
    nlohmann::json j{{"devices", r.devices},           {"readings", r.readings},
                     {"announcements", r.announcements}, {"datagrams", r.datagrams_sent},
                     {"acknowledged", r.acknowledged},   {"refused", r.refused},
                     {"retransmissions", r.retransmissions},
                     {"unacknowledged", r.unacknowledged}, {"dropped", r.dropped},
                     {"seconds", r.seconds}};
    j["sealer"] = std::string(device::sealer_name(sealer));
    if (direct) {
      j["direct"] = true;
      j["connects"] = direct->connects;
      j["resumed"] = direct->resumed;
      j["connect_failures"] = direct->connect_failures;
    }
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "Fleet of " << r.devices << " devices ran " << static_cast<long>(r.seconds) << " s: "
              << r.readings << " readings sealed and sent, " << r.acknowledged << " messages acknowledged by the "
              << peer << " (" << r.announcements << " epoch announcements), " << r.retransmissions << " re-sent, "
              << r.refused << " refused, " << r.unacknowledged << " unacknowledged, " << r.dropped << " dropped\n";
    if (direct) {
      std::cout << "Direct to the cloud: " << direct->connects << " TLS connections (" << direct->resumed
                << " resumed with a ticket), " << direct->connect_failures << " failed attempts\n";
    }
  }
  ctx.exit_code = (r.unacknowledged == 0 && r.dropped == 0) ? 0 : 1;
}


template <typename Opts>
void run_direct(Opts& o, cli::Context& ctx) {
  if (o.cloud.empty()) throw cli::UsageError("--direct needs --cloud HOST:PORT");
  auto [host, port] = parse_host_port(o.cloud, "--cloud");
  o.direct.cloud_host = host;
  o.direct.cloud_port = port;
  o.f.pki_dir = o.pki;
  o.f.e3_dir = o.e3;
  o.f.state_dir = o.state;
  const bool tty = ::isatty(2);
  auto r = device::run_direct_fleet(o.f, o.direct, [tty](const device::FleetSummary& s) {
    std::fprintf(stderr, "%sfleet: %.0fs, %llu readings sealed, %llu acknowledged by the cloud, %llu queued%s",
                 tty ? "\r" : "", s.seconds, static_cast<unsigned long long>(s.readings),
                 static_cast<unsigned long long>(s.acknowledged), static_cast<unsigned long long>(s.unacknowledged),
                 tty ? "   " : "\n");
  });
  if (tty) std::fprintf(stderr, "\n");
  if (!r) throw cli::Failure(r.error());
  print_summary(r->fleet, o.f.sealer, ctx, &*r);
}

}  // namespace

namespace armored::cli {

void add_fleet(CLI::App& app, Context& ctx) {
  struct Opts {
    device::FleetOptions f;
    device::DirectOptions direct;
    bool use_direct = false;
    std::string cloud;
    std::string interval = "30s", duration = "60s", gateway = "127.0.0.1:5683", pki, e3, state, freshness = "60s";
    std::string sealer = "cxx";
    std::string gateway_config;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("fleet", "Simulate a fleet of wearables sending sealed readings to a gateway");
  cmd->footer("Simulate a fleet of wearables (the patient monitor of the reference chapter): each seals\na 52-byte reading every --interval (divided by --speedup) with its own key and E3 state\nand sends it to the gateway by UDP, re-sending until the gateway has spooled it.\nDevices also take commands relayed by the gateway: each checks freshness, replay, its\ncopy of the command schema and the rate limit, acts, and replies sealed.\n\nExample, sealing with the device SDK's C library (the code firmware runs):\n  armored fleet --devices 10 --pki pki --e3 e3 --state state --sealer device-sdk");
  cmd->add_option("--devices", o->f.devices, "Number of devices (the first N enrolled)")->required()->check(CLI::Range(1, 1000000));
  cmd->add_option("--interval", o->interval, "Time between readings of one device")->capture_default_str();
  cmd->add_option("--speedup", o->f.speedup, "Run time faster by this factor")->capture_default_str()->check(CLI::Range(0.001, 1e6));
  auto* gateway_opt = cmd->add_option("--gateway", o->gateway, "Gateway HOST:PORT")->capture_default_str();
  // The gateway's own config names the port it listens on (`armored
  // quickstart` picks a free one), so the fleet need not be told it twice.
  cmd->add_option("--gateway-config", o->gateway_config,
                  "Send to the gateway whose gateway.toml this is ([udp] address and port) instead of --gateway")
      ->type_name("FILE")
      ->excludes(gateway_opt);
  cmd->add_option("--duration", o->duration, "How long to produce readings")->capture_default_str();
  cmd->add_option("--pki", o->pki, "PKI directory (device keys)")->required();
  cmd->add_option("--e3", o->e3, "E3 directory (registry, cloud public key)")->required();
  cmd->add_option("--state", o->state, "Directory for each device's persisted E3 state")->required();
  cmd->add_option("--aead", o->f.aead, "aes-128-gcm, aes-256-gcm, chacha20-poly1305 or aes-ccm-16-64-128 (default: by CPU)");
  cmd->add_option("--sealer", o->sealer,
                  "Code that seals: cxx (src/e3, the C++ sealer) or device-sdk (the C library firmware "
                  "links, OpenSSL backend)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cxx", "device-sdk"}));
  cmd->add_option("--save-envelope", o->f.save_envelope,
                  "Write the first sealed reading (an E3 envelope, in hex) to FILE, for `armored e3 inspect`")
      ->type_name("FILE");
  cmd->add_option("--commands", o->f.commands, "Command schema the devices accept (default: the built-in config/commands.toml)");
  cmd->add_option("--device-type", o->f.device_type, "Device type in that schema (default: its default_device_type)");
  cmd->add_option("--command-freshness", o->freshness, "Refuse commands issued longer ago than this (\"stale\")")->capture_default_str();
  cmd->add_flag("--no-gso", [o](std::int64_t) { o->f.gso = false; },
                "Send every datagram on its own instead of runs with UDP segmentation offload");
  cmd->add_flag("--direct", o->use_direct,
                "Each device talks MQTT over TLS 1.3 straight to the cloud (--cloud), no gateway");
  cmd->add_option("--cloud", o->cloud, "Cloud HOST:PORT for --direct (HOST is checked against its certificate)");
  cmd->add_option("--max-connecting", o->direct.max_connecting, "--direct: TLS handshakes in progress at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->callback([o, &ctx] {
    auto& f = o->f;
    f.interval_s = parse_duration_s(o->interval, "--interval");
    f.duration_s = parse_duration_s(o->duration, "--duration");
    f.command_freshness_s = parse_duration_s(o->freshness, "--command-freshness");
    f.sealer = *device::parse_sealer(o->sealer);  // checked by IsMember above
    if (o->use_direct) {
      run_direct(*o, ctx);
      return;
    }
    if (!o->gateway_config.empty()) {
      auto g = gateway::load_gateway_config(o->gateway_config);
      if (!g) throw cli::Failure(g.error());
      if (g->udp_port == 0) {
        throw cli::UsageError(o->gateway_config + ": udp.port is 0 (the gateway picks one when it starts); give --gateway HOST:PORT");
      }
      // A gateway listening on every address is reached on loopback from here.
      o->gateway = (g->udp_address == "0.0.0.0" ? "127.0.0.1" : g->udp_address) + ":" + std::to_string(g->udp_port);
    }
    auto colon = o->gateway.rfind(':');
    if (colon == std::string::npos) throw cli::UsageError("--gateway must be HOST:PORT");
    f.gateway_host = o->gateway.substr(0, colon);
    try {
      int port = std::stoi(o->gateway.substr(colon + 1));
      if (port < 1 || port > 65535) throw std::out_of_range("port");
      f.gateway_port = static_cast<std::uint16_t>(port);
    } catch (const std::exception&) {
      throw cli::UsageError("--gateway port must be 1..65535");
    }
    f.pki_dir = o->pki;
    f.e3_dir = o->e3;
    f.state_dir = o->state;
    // SIGTERM or SIGINT end the run with a summary (what the gateway
    // answered, what was still queued) instead of killing it silently.
    static std::atomic<bool> stop{false};
    struct sigaction sa {};
    sa.sa_handler = [](int) { stop.store(true); };
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    f.stop_requested = &stop;
    const bool tty = ::isatty(2);
    auto r = device::run_fleet(f, [tty](const device::FleetSummary& s) {
      std::fprintf(stderr, "%sfleet: %.0fs, %llu readings sealed, %llu acknowledged by the gateway, %llu queued%s",
                   tty ? "\r" : "", s.seconds, static_cast<unsigned long long>(s.readings),
                   static_cast<unsigned long long>(s.acknowledged), static_cast<unsigned long long>(s.unacknowledged),
                   tty ? "   " : "\n");
    });
    if (tty) std::fprintf(stderr, "\n");
    if (!r) throw cli::Failure(r.error());
    if (ctx.json) {
      std::cout << nlohmann::json{{"devices", r->devices},           {"readings", r->readings},
                                  {"sealer", std::string(device::sealer_name(f.sealer))},
                                  {"announcements", r->announcements}, {"datagrams", r->datagrams_sent},
                                  {"acknowledged", r->acknowledged},   {"refused", r->refused},
                                  {"readings_acknowledged", r->readings_acknowledged},
                                  {"stopped_by_signal", r->stopped},
                                  {"retransmissions", r->retransmissions},
                                  {"unacknowledged", r->unacknowledged}, {"dropped", r->dropped},
                                  {"alerts", r->alerts},
                                  {"commands", {{"received", r->commands_received},
                                                {"accepted", r->commands_accepted},
                                                {"refused", r->commands_refused},
                                                {"unopened", r->commands_unopened},
                                                {"refusal_reasons", r->refusal_reasons}}},
                                  {"seconds", r->seconds}}
                       .dump()
                << "\n";
    } else {
      std::cout << "Fleet of " << r->devices << " devices (sealer " << device::sealer_name(f.sealer) << ") ran " << static_cast<long>(r->seconds) << " s"
                << (r->stopped ? " (stopped by a signal)" : "") << ": " << r->readings
                << " readings sealed and sent, " << r->readings_acknowledged << " of them acknowledged by the gateway; "
                << r->acknowledged << " messages acknowledged in all (" << r->announcements
                << " epoch announcements), " << r->retransmissions << " re-sent, " << r->refused << " refused, "
                << r->unacknowledged << " unacknowledged, " << r->dropped << " dropped\n";
      std::cout << "Commands: " << r->commands_received << " received, " << r->commands_accepted << " accepted, "
                << r->commands_refused << " refused";
      for (const auto& [reason, n] : r->refusal_reasons) std::cout << " (" << reason << ": " << n << ")";
      std::cout << ", " << r->commands_unopened << " not opened (E3 refused)\n";
    }
    ctx.exit_code = (r->unacknowledged == 0 && r->dropped == 0) ? 0 : 1;
  });
}

}  // namespace armored::cli
