#pragma once
// The energy model: what one reading costs a battery-powered device, from a
// device profile (electrical facts) and wire facts (bytes and round trips
// measured from Armored's own E3 and TLS code).
//
// Units throughout: microjoules (uJ), milliseconds (ms), bytes. A handy
// identity: volts x milliamps x milliseconds = microjoules.

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "energy/profile.h"

namespace armored::energy {

enum class Strategy { kPersistent, kFullHandshake, kResumed, kZeroRtt };
inline constexpr std::array<Strategy, 4> kAllStrategies = {
    Strategy::kPersistent, Strategy::kFullHandshake, Strategy::kResumed, Strategy::kZeroRtt};
std::string_view strategy_name(Strategy s);   // "persistent", "full", "resumed", "0-rtt"
std::string_view strategy_title(Strategy s);  // words for a person

// Bytes and round trips of one TLS handshake, as measured.
struct HandshakeWire {
  unsigned bytes_up = 0;    // client to server, including the ClientHello
  unsigned bytes_down = 0;  // server to client
  // Round trips before the first application byte can reach the server:
  // 1 for a full or resumed TLS 1.3 handshake, 0 with 0-RTT early data.
  unsigned round_trips_before_data = 1;
};

// What the model knows about Armored's wire format.
struct WireFacts {
  // E3 envelope size on the wire for the reading, per AEAD (index: Aead).
  std::array<unsigned, 4> envelope_bytes{};
  HandshakeWire full;      // mutual TLS 1.3 full handshake
  HandshakeWire resumed;   // ticket resumption (psk_dhe_ke)
  HandshakeWire zero_rtt;  // resumption with early data
  std::string source;      // where the figures came from, for the report
};

struct Scenario {
  double interval_s = 30;
  unsigned reading_bytes = 52;          // plaintext of one reading
  std::optional<unsigned> packet_bytes;  // fixes bytes on air per reading instead
  // Replaces the E3 envelope by another format of this size (framing still
  // added, AEAD over it): the reference chapter's 96-byte packet, say.
  std::optional<unsigned> envelope_bytes;
  double battery_mah = 200;
  Aead aead = Aead::kAes128Gcm;
  bool mutual_tls = true;  // the client signs in the handshake (ECDSA)
};

// Duration and energy of one handshake's busy period.
struct HandshakeCost {
  double network_ms = 0;  // waiting for round trips, CPU and radio awake
  double crypto_ms = 0;   // public-key and key-schedule work
  double airtime_uj = 0;  // radio energy for the handshake bytes
  double time_ms() const { return network_ms + crypto_ms; }
  double energy_uj = 0;   // all of it
  double crypto_uj = 0;   // the crypto part of energy_uj
};

enum class HandshakeKind { kFull, kResumedDhe, kResumedPskOnly };

// CPU time of the handshake's cryptography on this device: ECDHE key
// generation and agreement, certificate verification, signing for mutual
// TLS, and the HKDF key schedule, as the profile gives them.
double handshake_crypto_ms(const Profile& p, HandshakeKind kind, bool mutual_tls);

// Energy of a handshake that keeps the device busy at the profile's CPU
// current for `network_ms` + `crypto_ms`, plus radio airtime for its bytes.
HandshakeCost handshake_cost(const Profile& p, double network_ms, double crypto_ms,
                             unsigned bytes_up = 0, unsigned bytes_down = 0);

// Radio energy to send `bytes` in one message (fixed event cost + airtime).
double radio_send_uj(const Profile& p, unsigned bytes);

struct StrategyResult {
  Strategy strategy;
  unsigned bytes_on_air = 0;  // per reading, handshake bytes included
  unsigned round_trips = 0;   // awake round trips per reading
  double radio_uj = 0;        // sending the reading
  double handshake_network_uj = 0;
  double handshake_crypto_uj = 0;
  double aead_uj = 0;  // AEAD and record layer
  double per_reading_uj = 0;
  double active_per_day_mj = 0;  // readings only (TX and encryption)
  double idle_per_day_mj = 0;    // sleeping or holding the connection between readings
  double per_day_mj = 0;
  double battery_days_active_only = 0;  // the chapter's "TX + encryption only"
  double battery_days = 0;              // including idle
};

struct Report {
  Profile profile;
  Scenario scenario;
  WireFacts wire;
  double readings_per_day = 0;
  double battery_uj = 0;
  unsigned reading_bytes_on_air = 0;  // the reading alone
  std::vector<StrategyResult> strategies;  // in kAllStrategies order
};

// Computes every strategy for the scenario.
Report evaluate(const Profile& p, const Scenario& s, const WireFacts& w);

// Battery energy in microjoules: mAh x V x 3.6 J.
double battery_energy_uj(double battery_mah, double voltage_v);

}  // namespace armored::energy
