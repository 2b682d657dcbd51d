#include "energy/model.h"

namespace armored::energy {

std::string_view strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kPersistent: return "persistent";
    case Strategy::kFullHandshake: return "full";
    case Strategy::kResumed: return "resumed";
    case Strategy::kZeroRtt: return "0-rtt";
  }
  return "?";
}

std::string_view strategy_title(Strategy s) {
  switch (s) {
    case Strategy::kPersistent: return "connection kept open";
    case Strategy::kFullHandshake: return "full handshake per reading";
    case Strategy::kResumed: return "resumed handshake per reading";
    case Strategy::kZeroRtt: return "0-RTT per reading";
  }
  return "?";
}

double battery_energy_uj(double battery_mah, double voltage_v) {
  return battery_mah * voltage_v * 3.6 * 1e6;
}

double handshake_crypto_ms(const Profile& p, HandshakeKind kind, bool mutual_tls) {
  switch (kind) {
    case HandshakeKind::kFull:
      return p.ecdhe_ms + p.ecdsa_verify_ms + p.hkdf_ms + (mutual_tls ? p.ecdsa_sign_ms : 0.0);
    case HandshakeKind::kResumedDhe:
      return p.ecdhe_ms + p.hkdf_ms;
    case HandshakeKind::kResumedPskOnly:
      return p.hkdf_ms;
  }
  return 0;
}

namespace {
// Airtime in ms for `bytes` at the profile's data rate (kbit/s).
double airtime_ms(const Profile& p, unsigned bytes) {
  return static_cast<double>(bytes) * 8.0 / p.data_rate_kbps;
}
}  // namespace

HandshakeCost handshake_cost(const Profile& p, double network_ms, double crypto_ms,
                             unsigned bytes_up, unsigned bytes_down) {
  HandshakeCost c;
  c.network_ms = network_ms;
  c.crypto_ms = crypto_ms;
  c.airtime_uj = p.supply_voltage_v * (p.tx_current_ma * airtime_ms(p, bytes_up) +
                                       p.rx_current_ma * airtime_ms(p, bytes_down));
  c.crypto_uj = p.supply_voltage_v * p.cpu_current_ma * crypto_ms;
  c.energy_uj = p.supply_voltage_v * p.cpu_current_ma * (network_ms + crypto_ms) + c.airtime_uj;
  return c;
}

double radio_send_uj(const Profile& p, unsigned bytes) {
  return p.per_message_uj + p.supply_voltage_v * p.tx_current_ma * airtime_ms(p, bytes);
}

Report evaluate(const Profile& p, const Scenario& s, const WireFacts& w) {
  Report r;
  r.profile = p;
  r.scenario = s;
  r.wire = w;
  r.readings_per_day = 86400.0 / s.interval_s;
  r.battery_uj = battery_energy_uj(s.battery_mah, p.battery_voltage_v);

  // Bytes of the reading on air and bytes the AEAD processes.
  unsigned aead_bytes = s.reading_bytes;
  if (s.packet_bytes) {
    r.reading_bytes_on_air = *s.packet_bytes;
    aead_bytes = *s.packet_bytes;  // someone else's format: sealed as a whole
  } else if (s.envelope_bytes) {
    r.reading_bytes_on_air = *s.envelope_bytes + p.framing_bytes;
    aead_bytes = *s.envelope_bytes;
  } else {
    r.reading_bytes_on_air = w.envelope_bytes[static_cast<std::size_t>(s.aead)] + p.framing_bytes;
  }
  const AeadCost& ac = p.cost(s.aead);
  const double aead_uj =
      ac.uj_per_byte * aead_bytes + ac.uj_per_message + p.record_layer_uj;
  const double radio_uj = radio_send_uj(p, r.reading_bytes_on_air);

  for (Strategy st : kAllStrategies) {
    StrategyResult x;
    x.strategy = st;
    x.radio_uj = radio_uj;
    x.aead_uj = aead_uj;
    x.bytes_on_air = r.reading_bytes_on_air;
    double idle_current_ua = p.sleep_current_ua;
    if (st == Strategy::kPersistent) {
      // The connection stays up: no handshake per reading, the device pays
      // to hold the link between readings instead.
      idle_current_ua = p.connected_idle_current_ua;
    } else {
      const HandshakeWire& hw = st == Strategy::kFullHandshake ? w.full
                                : st == Strategy::kResumed     ? w.resumed
                                                               : w.zero_rtt;
      const HandshakeKind kind =
          st == Strategy::kFullHandshake ? HandshakeKind::kFull : HandshakeKind::kResumedDhe;
      // Awake round trips: TCP's, TLS's before data, and the reading's own
      // acknowledgement (which, with 0-RTT, rides the server's first flight).
      x.round_trips = 1 + hw.round_trips_before_data + 1;
      HandshakeCost hc = handshake_cost(p, p.rtt_ms * x.round_trips,
                                        handshake_crypto_ms(p, kind, s.mutual_tls),
                                        hw.bytes_up, hw.bytes_down);
      x.handshake_crypto_uj = hc.crypto_uj;
      x.handshake_network_uj = hc.energy_uj - hc.crypto_uj;
      x.bytes_on_air += hw.bytes_up + hw.bytes_down;
    }
    x.per_reading_uj = x.radio_uj + x.aead_uj + x.handshake_crypto_uj + x.handshake_network_uj;
    x.active_per_day_mj = x.per_reading_uj * r.readings_per_day / 1000.0;
    x.idle_per_day_mj = idle_current_ua * p.supply_voltage_v * 86400.0 / 1000.0;
    x.per_day_mj = x.active_per_day_mj + x.idle_per_day_mj;
    x.battery_days_active_only = r.battery_uj / (x.active_per_day_mj * 1000.0);
    x.battery_days = r.battery_uj / (x.per_day_mj * 1000.0);
    r.strategies.push_back(x);
  }
  return r;
}

}  // namespace armored::energy
