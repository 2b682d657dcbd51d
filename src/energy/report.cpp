#include "energy/report.h"

#include <fmt/format.h>

#include <cmath>

namespace armored::energy {

std::string group_thousands(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", std::fabs(v), decimals);
  auto dot = s.find('.');
  std::string whole = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot);
  std::string out;
  int n = 0;
  for (auto it = whole.rbegin(); it != whole.rend(); ++it) {
    if (n && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return (v < 0 ? "-" : "") + out + frac;
}

namespace {

const StrategyResult& find(const Report& r, Strategy s) {
  for (const auto& x : r.strategies) {
    if (x.strategy == s) return x;
  }
  return r.strategies.front();
}

double pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

}  // namespace

std::string render_text(const Report& r, const std::vector<Report>& per_aead,
                        const std::optional<Report>& chapter_packet) {
  const Profile& p = r.profile;
  const Scenario& s = r.scenario;
  std::string o;
  o += fmt::format("Energy model for {} ({})\n", p.name, p.description);
  o += fmt::format("One reading every {} s ({} a day); battery {} mAh at {} V = {} J\n",
                   group_thousands(s.interval_s, s.interval_s == std::floor(s.interval_s) ? 0 : 1),
                   group_thousands(r.readings_per_day), group_thousands(s.battery_mah),
                   p.battery_voltage_v, group_thousands(r.battery_uj / 1e6));
  if (s.packet_bytes) {
    o += fmt::format("Bytes on air per reading: {} (fixed by --packet-bytes)\n",
                     r.reading_bytes_on_air);
  } else {
    o += fmt::format(
        "Bytes on air per reading: {} = E3 envelope {} ({}-byte reading, {}) + {} framing\n",
        r.reading_bytes_on_air, r.wire.envelope_bytes[static_cast<std::size_t>(s.aead)],
        s.reading_bytes, aead_name(s.aead), p.framing_bytes);
  }

  const StrategyResult& keep = find(r, Strategy::kPersistent);
  o += "\nSteady state (connection kept open), transmission and encryption only:\n";
  o += fmt::format("  {:<22}{:>10.1f} uJ\n", std::string(aead_name(s.aead)) + " AEAD",
                   keep.aead_uj - p.record_layer_uj);
  o += fmt::format("  {:<22}{:>10.1f} uJ\n", "record layer", p.record_layer_uj);
  o += fmt::format("  {:<22}{:>10.1f} uJ\n", "radio", keep.radio_uj);
  o += fmt::format("  {:<22}{:>10.1f} uJ per reading\n", "total", keep.per_reading_uj);
  o += fmt::format("  {:.1f} mJ per day; battery life {} days (transmission and encryption only)\n",
                   keep.active_per_day_mj, group_thousands(keep.battery_days_active_only));
  o += fmt::format("  radio is {:.0f}% of it, encryption {:.0f}%\n",
                   pct(keep.radio_uj, keep.per_reading_uj), pct(keep.aead_uj, keep.per_reading_uj));

  o += "\nPer strategy (per reading; per day and battery life include the idle current between readings):\n";
  o += fmt::format("  {:<31}{:>7}{:>5}{:>11}{:>11}{:>11}{:>9}{:>12}{:>12}\n", "strategy", "bytes",
                   "RTT", "radio uJ", "hs net uJ", "hs cpu uJ", "AEAD uJ", "mJ/day", "days");
  for (const auto& x : r.strategies) {
    o += fmt::format("  {:<31}{:>7}{:>5}{:>11.1f}{:>11.1f}{:>11.1f}{:>9.1f}{:>12.1f}{:>12}\n",
                     strategy_title(x.strategy), x.bytes_on_air, x.round_trips, x.radio_uj,
                     x.handshake_network_uj, x.handshake_crypto_uj, x.aead_uj, x.per_day_mj,
                     group_thousands(x.battery_days));
  }

  if (per_aead.size() > 1) {
    o += "\nPer AEAD (connection kept open, transmission and encryption only):\n";
    for (const auto& a : per_aead) {
      const auto& k = find(a, Strategy::kPersistent);
      o += fmt::format("  {:<20}{:>5} bytes on air{:>9.2f} uJ AEAD{:>10.1f} uJ per reading{:>10} days\n",
                       aead_name(a.scenario.aead), a.reading_bytes_on_air, k.aead_uj, k.per_reading_uj,
                       group_thousands(k.battery_days_active_only));
    }
  }

  o += "\nWhat Armored saves:\n";
  if (chapter_packet) {
    const auto& ours = find(r, Strategy::kPersistent);
    const auto& theirs = find(*chapter_packet, Strategy::kPersistent);
    o += fmt::format(
        "  E3 envelope ({} bytes) instead of the chapter's 96-byte packet: {:.1f}% less energy per "
        "reading, +{} days ({} instead of {}, transmission and encryption only)\n",
        r.wire.envelope_bytes[static_cast<std::size_t>(s.aead)],
        100.0 - pct(ours.per_reading_uj, theirs.per_reading_uj),
        group_thousands(ours.battery_days_active_only - theirs.battery_days_active_only),
        group_thousands(ours.battery_days_active_only),
        group_thousands(theirs.battery_days_active_only));
  }
  const auto& full = find(r, Strategy::kFullHandshake);
  for (Strategy st : {Strategy::kResumed, Strategy::kZeroRtt}) {
    const auto& x = find(r, st);
    o += fmt::format("  {} instead of a full handshake per reading: {:.1f}% less energy per day, "
                     "battery {} days instead of {}\n",
                     strategy_title(st), 100.0 - pct(x.per_day_mj, full.per_day_mj),
                     group_thousands(x.battery_days, 1), group_thousands(full.battery_days, 1));
  }
  const auto& keep2 = find(r, Strategy::kPersistent);
  o += fmt::format("  keeping the connection open: battery {} days (idle link {:.1f} mJ/day)\n",
                   group_thousands(keep2.battery_days, 1), keep2.idle_per_day_mj);
  if (!r.wire.source.empty()) o += "\nWire figures: " + r.wire.source + "\n";
  return o;
}

namespace {
nlohmann::json strategy_json(const StrategyResult& x) {
  return {{"strategy", strategy_name(x.strategy)},
          {"bytes_on_air", x.bytes_on_air},
          {"round_trips", x.round_trips},
          {"radio_uj", x.radio_uj},
          {"handshake_network_uj", x.handshake_network_uj},
          {"handshake_crypto_uj", x.handshake_crypto_uj},
          {"aead_uj", x.aead_uj},
          {"per_reading_uj", x.per_reading_uj},
          {"active_per_day_mj", x.active_per_day_mj},
          {"idle_per_day_mj", x.idle_per_day_mj},
          {"per_day_mj", x.per_day_mj},
          {"battery_days_active_only", x.battery_days_active_only},
          {"battery_days", x.battery_days}};
}
}  // namespace

nlohmann::json render_json(const Report& r, const std::vector<Report>& per_aead,
                           const std::optional<Report>& chapter_packet) {
  nlohmann::json j;
  j["profile"] = r.profile.name;
  j["interval_s"] = r.scenario.interval_s;
  j["readings_per_day"] = r.readings_per_day;
  j["battery_mah"] = r.scenario.battery_mah;
  j["battery_j"] = r.battery_uj / 1e6;
  j["aead"] = aead_name(r.scenario.aead);
  j["reading_bytes"] = r.scenario.reading_bytes;
  j["bytes_on_air"] = r.reading_bytes_on_air;
  j["packet_bytes_fixed"] = r.scenario.packet_bytes.has_value();
  j["strategies"] = nlohmann::json::array();
  for (const auto& x : r.strategies) j["strategies"].push_back(strategy_json(x));
  j["per_aead"] = nlohmann::json::array();
  for (const auto& a : per_aead) {
    j["per_aead"].push_back({{"aead", aead_name(a.scenario.aead)},
                             {"bytes_on_air", a.reading_bytes_on_air},
                             {"persistent", strategy_json(a.strategies.front())}});
  }
  if (chapter_packet) {
    j["chapter_packet"] = {{"bytes_on_air", chapter_packet->reading_bytes_on_air},
                           {"persistent", strategy_json(chapter_packet->strategies.front())}};
  }
  j["wire"] = {{"source", r.wire.source},
               {"full", {{"bytes_up", r.wire.full.bytes_up}, {"bytes_down", r.wire.full.bytes_down}}},
               {"resumed", {{"bytes_up", r.wire.resumed.bytes_up}, {"bytes_down", r.wire.resumed.bytes_down}}},
               {"zero_rtt", {{"bytes_up", r.wire.zero_rtt.bytes_up}, {"bytes_down", r.wire.zero_rtt.bytes_down}}}};
  return j;
}

std::string render_device_crypto_text(const DeviceCryptoComparison& c, const Report& r) {
  const Profile& p = r.profile;
  const CryptoCosts& k = c.costs;
  std::string o;
  o += fmt::format("\nE3 device crypto: the profile's datasheet figures next to instructions measured on a {} ({})\n",
                   k.target, k.source);
  o += fmt::format("  measured with {}\n", k.measured_with);
  o += fmt::format("  instructions to energy: one per cycle at {} MHz, {} mA at {} V = {:.3f} nJ per instruction\n",
                   c.clock_mhz, p.cpu_current_ma, p.supply_voltage_v, c.nj_per_instruction);
  o += fmt::format("  {:<44}{:>14}{:>16}{:>18}\n", "operation", "datasheet uJ", "instructions", "measured uJ");
  const auto row = [&](const std::string& what, double ds, std::uint64_t insn, double measured) {
    o += fmt::format("  {:<44}{:>14.2f}{:>16}{:>18.2f}\n", what, ds, group_thousands(static_cast<double>(insn)),
                     measured);
  };
  row(fmt::format("seal a {}-byte reading, {}", k.reading_bytes, aead_name(c.aead)), c.datasheet.seal_uj,
      k.seal_instructions[static_cast<std::size_t>(c.aead)], c.measured.seal_uj);
  row("start an epoch (ECDH + HKDF + ECDSA sign)", c.datasheet.start_epoch_uj, k.start_epoch_instructions,
      c.measured.start_epoch_uj);
  row("re-sign the announcement (ECDSA sign)", c.datasheet.reannounce_uj, k.reannounce_instructions,
      c.measured.reannounce_uj);
  row(fmt::format("open a command ({}-byte, aes-128-gcm)", k.command_plaintext_bytes), c.datasheet.open_command_uj,
      k.open_command_instructions, c.measured.open_command_uj);
  o += fmt::format("  {:<44}{:>14.1f}{:>16}{:>18.1f}\n", "per day (readings + one epoch start), mJ",
                   c.datasheet.per_day_mj, "", c.measured.per_day_mj);
  o += fmt::format("  {:<44}{:>14}{:>16}{:>18}\n", "battery, reading radio + E3 crypto only, days",
                   group_thousands(c.datasheet.battery_days_tx_and_crypto), "",
                   group_thousands(c.measured.battery_days_tx_and_crypto));
  if (k.reading_bytes != r.scenario.reading_bytes) {
    o += fmt::format("  note: the seal was measured for a {}-byte reading, the scenario seals {} bytes\n",
                     k.reading_bytes, r.scenario.reading_bytes);
  }
  return o;
}

nlohmann::json render_device_crypto_json(const DeviceCryptoComparison& c) {
  const auto figures = [](const DeviceCryptoFigures& f) {
    return nlohmann::json{{"seal_uj", f.seal_uj},
                          {"start_epoch_uj", f.start_epoch_uj},
                          {"reannounce_uj", f.reannounce_uj},
                          {"open_command_uj", f.open_command_uj},
                          {"per_day_mj", f.per_day_mj},
                          {"battery_days_tx_and_crypto", f.battery_days_tx_and_crypto}};
  };
  const CryptoCosts& k = c.costs;
  return {{"source", k.source},
          {"target", k.target},
          {"measured_with", k.measured_with},
          {"aead", aead_name(c.aead)},
          {"clock_mhz", c.clock_mhz},
          {"nj_per_instruction", c.nj_per_instruction},
          {"instructions",
           {{"seal", k.seal_instructions[static_cast<std::size_t>(c.aead)]},
            {"start_epoch", k.start_epoch_instructions},
            {"reannounce", k.reannounce_instructions},
            {"open_command", k.open_command_instructions}}},
          {"datasheet", figures(c.datasheet)},
          {"measured", figures(c.measured)}};
}

}  // namespace armored::energy
