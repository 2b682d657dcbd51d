// `armored energy`: what security costs a battery, from a device profile and
// the bytes and round trips Armored's own E3 and TLS code put on the wire.

#include <cmath>
#include <iostream>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/energy_wire.h"
#include "common/file_io.h"
#include "energy/crypto_costs.h"
#include "energy/model.h"
#include "energy/profile.h"
#include "energy/report.h"
#include "energy/svg_plot.h"

namespace {

using namespace armored;
using namespace armored::energy;

// "30s", "5m", "2h", "1d" or plain seconds.
double parse_interval(const std::string& s) {
  if (s.empty()) throw cli::UsageError("--interval is empty");
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw cli::UsageError("--interval '" + s + "' is not a duration (e.g. 30s, 5m, 1h)");
  }
  std::string unit = s.substr(used);
  double mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : -1;
  if (mult < 0) throw cli::UsageError("--interval unit '" + unit + "' is not one of s, m, h, d");
  v *= mult;
  if (!std::isfinite(v) || v < 1 || v > 86400.0 * 365) {
    throw cli::UsageError("--interval must be between 1 s and 365 d");
  }
  return v;
}

struct Options {
  std::string profile;
  std::string interval = "30s";
  unsigned reading_bytes = 52;
  std::optional<unsigned> packet_bytes;
  double battery_mah = 200;
  std::string aead;
  std::string plot;
  bool server_auth_only = false;
  std::string crypto_costs;  // built-in name or file; empty: datasheet figures only
  double cpu_mhz = 64;       // the nRF52840's clock
};

void run(const Options& o, cli::Context& ctx) {
  auto profile = load_profile(o.profile);
  if (!profile) throw cli::Failure(profile.error());
  std::optional<CryptoCosts> costs;
  if (!o.crypto_costs.empty()) {
    auto c = load_crypto_costs(o.crypto_costs);
    if (!c) throw cli::UsageError("crypto costs " + c.error().message);
    costs = std::move(*c);
  }
  Scenario s;
  s.interval_s = parse_interval(o.interval);
  s.reading_bytes = o.reading_bytes;
  s.packet_bytes = o.packet_bytes;
  s.battery_mah = o.battery_mah;
  s.mutual_tls = !o.server_auth_only;
  s.aead = profile->default_aead;
  if (!o.aead.empty()) {
    auto a = parse_aead(o.aead);
    if (!a) throw cli::Failure(a.error());
    s.aead = *a;
  }

  auto wire = cli::measure_wire_facts(s.reading_bytes);
  if (!wire) throw cli::OperationFailed(wire.error());

  Report report = evaluate(*profile, s, *wire);
  std::vector<Report> per_aead;
  for (Aead a : kAllAeads) {
    Scenario sa = s;
    sa.aead = a;
    per_aead.push_back(evaluate(*profile, sa, *wire));
  }
  std::optional<Report> chapter;
  if (!s.packet_bytes) {
    // The chapter's 96-byte packet for the same reading, for comparison.
    Scenario sc = s;
    sc.envelope_bytes = 96;
    chapter = evaluate(*profile, sc, *wire);
  }

  if (!o.plot.empty()) {
    std::string svg = render_svg(report);
    auto st = write_file_atomic(o.plot, as_bytes(svg), 0644);
    if (!st) throw cli::OperationFailed(st.error());
  }
  std::optional<DeviceCryptoComparison> device_crypto;
  if (costs) device_crypto = compare_device_crypto(report, *costs, o.cpu_mhz);
  if (ctx.json) {
    auto j = render_json(report, per_aead, chapter);
    if (!o.plot.empty()) j["plot"] = o.plot;
    if (device_crypto) j["device_crypto"] = render_device_crypto_json(*device_crypto);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << render_text(report, per_aead, chapter);
    if (device_crypto) std::cout << render_device_crypto_text(*device_crypto, report);
    if (!o.plot.empty()) std::cout << "Plot written to " << o.plot << "\n";
  }
}

}  // namespace

namespace armored::cli {

void add_energy(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("energy", "Model what security costs a battery, from Armored's measured bytes and round trips");
  cmd->footer("Model what security costs a battery: energy per reading, per day and battery life for\nkeeping the connection open, a full handshake, a resumed one or 0-RTT per reading,\nusing the bytes and round trips Armored's E3 envelope and TLS handshakes put on the wire.");
  cmd->add_option("--profile", opts->profile,
                  "Device profile: esp32-wifi, nrf52840-ble, or a path to a .toml file")
      ->required();
  cmd->add_option("--interval", opts->interval, "Time between readings (30s, 5m, 1h)")
      ->capture_default_str();
  cmd->add_option("--reading-bytes", opts->reading_bytes, "Plaintext bytes per reading")
      ->capture_default_str()
      ->check(CLI::Range(1u, 65000u));
  cmd->add_option("--packet-bytes", opts->packet_bytes,
                  "Fix the bytes on air per reading (someone else's packet format)")
      ->check(CLI::Range(1u, 65000u));
  cmd->add_option("--battery-mAh", opts->battery_mah, "Battery capacity")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1e7));
  cmd->add_option("--aead", opts->aead,
                  "aes-128-gcm, aes-256-gcm, chacha20-poly1305 or aes-ccm-16-64-128 "
                  "(default: the profile's)");
  cmd->add_option("--plot", opts->plot, "Write an SVG picture of battery life and the energy split");
  cmd->add_option("--crypto-costs", opts->crypto_costs,
                  "Measured instructions per E3 seal, announcement and command open, printed next to the "
                  "profile's datasheet figures: measured-cm4 (Cortex-M4, device-sdk/README.md) or a file "
                  "from device-sdk/scripts/figures.sh --cost-file");
  cmd->add_option("--cpu-mhz", opts->cpu_mhz,
                  "Clock that turns --crypto-costs instructions into time (one per cycle; default: the "
                  "nRF52840's 64 MHz); the current is the profile's cpu_current_ma")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 100000.0));
  cmd->add_flag("--server-auth-only", opts->server_auth_only,
                "Model devices that do not sign in the handshake (no client certificate)");
  cmd->callback([opts, &ctx] { run(*opts, ctx); });
}

}  // namespace armored::cli
