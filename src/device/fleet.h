#pragma once
// The device fleet simulator: N wearables of the reference chapter's
// patient-monitoring example, each with its own identity key (from
// `armored pki fleet`), its own kid (from `armored enroll`) and its own
// persisted E3 state, sending the 52-byte reading every `interval /
// speedup` to a gateway over UDP. A message stays queued on the device and
// is re-sent until the gateway answers that it is spooled.
//
// Each device also takes commands (docs/commands.md): the gateway relays
// downlink envelopes to the address the fleet sends from; the device named
// by the envelope's kid opens it, checks it against its own copy of the
// command schema, acts (its reading interval, alert threshold, ...) and sends
// the sealed reply uplink like a reading.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "common/result.h"
#include "device/device_sealer.h"

namespace armored::device {

struct FleetOptions {
  std::filesystem::path pki_dir;
  std::filesystem::path e3_dir;
  std::filesystem::path state_dir;  // <id>.e3: each device's sealer state (0600)
  std::size_t devices = 10;
  double interval_s = 30;
  double speedup = 1;
  std::string gateway_host = "127.0.0.1";
  std::uint16_t gateway_port = 5683;
  double duration_s = 60;         // stop producing readings after this
  double drain_s = 30;            // then wait this long at most for every answer
  double retry_after_s = 0.5;     // re-send an unanswered message after this
  // Per device; beyond it the oldest reading not in flight is dropped
  // (counted; docs/pipeline.md, "One simulated device").
  std::size_t max_queue = 10000;
  std::string aead;               // empty: ChaCha20 without AES hardware, AES-128-GCM with
  // Which code seals: the C++ sealer (src/e3) or the device SDK's C library
  // (device-sdk/, OpenSSL backend), the code firmware runs.
  SealerKind sealer = SealerKind::kCxx;
  // If set, the first sealed reading (E3 envelope) is written here in hex:
  // what a gateway sees, for `armored e3 inspect`.
  std::filesystem::path save_envelope;
  std::filesystem::path commands;  // command schema; empty: the built-in config/commands.toml
  std::string device_type;         // in that schema; empty: its default_device_type
  double command_freshness_s = 60; // commands issued longer ago are refused "stale"
  // Send runs of equal-sized datagrams with UDP segmentation offload (one
  // system call and one trip through the stack per run; the gateway still
  // receives one datagram per message). Falls back by itself where refused.
  bool gso = true;
  // Set (by a signal handler) to end the run now: no more readings, no
  // drain; the summary says what was answered and what was still queued.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct FleetSummary {
  std::uint64_t devices = 0;
  std::uint64_t readings = 0;        // sealed
  std::uint64_t announcements = 0;   // epochs started (including restored devices' re-sends)
  std::uint64_t datagrams_sent = 0;  // including re-sends
  std::uint64_t acknowledged = 0;    // messages the gateway spooled
  std::uint64_t readings_acknowledged = 0;  // of those, readings (the cloud should store exactly these)
  std::uint64_t refused = 0;         // answers "spool full" (the message is re-sent)
  std::uint64_t retransmissions = 0;
  std::uint64_t unacknowledged = 0;  // still queued at the end
  std::uint64_t dropped = 0;         // readings dropped at queue overflow (never announcements or replies)
  // Of those, readings sent at least once before they were dropped: the
  // cloud may still store these (an answer or PUBACK lost, or still to come).
  // So the cloud stores at least readings_acknowledged and at most that plus
  // dropped_after_send plus what is still queued.
  std::uint64_t dropped_after_send = 0;
  std::uint64_t alerts = 0;          // readings with heart rate above the device's alert threshold
  std::uint64_t commands_received = 0;   // downlink envelopes opened by their device
  std::uint64_t commands_accepted = 0;
  std::uint64_t commands_refused = 0;    // by the device, with a reason (below)
  std::uint64_t commands_unopened = 0;   // downlink envelopes E3 refused (forged, replayed, ...)
  std::map<std::string, std::uint64_t> refusal_reasons;  // reason name -> count
  double seconds = 0;
  bool stopped = false;  // ended early by stop_requested
};

using FleetProgress = std::function<void(const FleetSummary& so_far)>;

// Runs the fleet until duration_s has passed and every message is answered
// (or drain_s more has passed). Errors only for unusable inputs.
Expected<FleetSummary> run_fleet(const FleetOptions& options, const FleetProgress& progress = {});

}  // namespace armored::device
