#pragma once
// One simulated wearable, whatever carries its messages: the sealer, its
// reading schedule and generator, the queue of messages awaiting
// confirmation, and the rules both transports share (fleet.cpp: UDP via a
// gateway; direct.cpp: MQTT straight to the cloud over mqtt_link). The
// transports only move bytes and report confirmations (the gateway's
// "spooled" answer, the cloud's PUBACK).
//
// The behaviour, the same in both modes (docs/pipeline.md, "One simulated
// device"):
//   - Clock: the schedule starts once every device is loaded; first
//     readings are spread over one period from there, so loading a large
//     fleet does not leave every device behind with a burst to catch up.
//   - Overflow: at max_queue, the oldest reading not in flight is dropped
//     (counted in dropped, and in dropped_after_send if it had been sent:
//     the cloud may still store that one). Never an announcement (the
//     readings after it depend on it), never a command reply, never a
//     PUBLISH awaiting its PUBACK (the session re-sends it regardless, and
//     the cloud may already have it). When every queued reading is in
//     flight, the new reading is the one dropped.
//   - Rotation: when an epoch is due, its announcement is queued and the
//     reading due is sealed in the new epoch; no reading is skipped. A
//     transport sends nothing queued behind an unconfirmed announcement
//     (sendable()), so the cloud knows each epoch before its readings.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/rng.h"
#include "device/device_sealer.h"
#include "device/fleet.h"
#include "device/internal/pending_queue.h"
#include "telemetry/generator.h"

namespace armored::device {

using Steady = std::chrono::steady_clock;

// A message awaiting its confirmation, and what its transport did with it.
struct Outgoing {
  enum class Kind : std::uint8_t { kAnnouncement, kReading, kReply };
  MessageBytes message;
  Kind kind = Kind::kReading;
  std::uint8_t sends = 0;            // times handed to a transport (saturates at 255)
  Steady::time_point last_sent{};    // UDP: when it was last sent (re-send timing)
  std::uint16_t packet_id = 0;       // MQTT: its PUBLISH on the current connection, awaiting PUBACK
  bool in_flight() const { return packet_id != 0; }
};

class SimulatedWearable {
 public:
  // Called for each reading before it is sealed (alerts, --save-envelope).
  using ReadingHook = std::function<Status(const telemetry::Reading& reading, ByteSpan sealed)>;

  // Queues the current epoch's announcement first (counted): after a
  // restart the cloud treats a repeat as a no-op, and a lost one must not
  // strand the readings.
  SimulatedWearable(std::string id, OpenedDevice opened, std::size_t max_queue, FleetSummary& sum);

  // Starts the schedule: the first reading is due at `first`, then one per `period`.
  void start(Steady::time_point first, Steady::duration period);
  // A new period from now (a command changed the interval, or a reboot).
  void restart_schedule(Steady::time_point now, Steady::duration period);
  Steady::duration period() const { return period_; }
  // When produce() next has a reading to seal (an epoch that is due starts then).
  Steady::time_point next_due() const { return next_reading_; }

  // Seals the readings due at `now` (at most 16 per call, so one late pass
  // cannot explode), starting an epoch first when one is due.
  Status produce(Steady::time_point now, std::uint32_t wall_s, const ReadingHook& hook = {});
  // Queues a message made elsewhere (a command reply, an announcement).
  void queue_message(ByteSpan message);

  // How many messages from the front a transport may send, at most `limit`:
  // up to and including the first announcement (unconfirmed: confirmed ones
  // have left the queue).
  std::size_t sendable(std::size_t limit) const;
  RingQueue<Outgoing>& queue() { return queue_; }
  std::size_t queued() const { return queue_.size(); }
  // Its transport confirmed message i: it leaves the queue (counted).
  void confirm(std::size_t i);

  const std::string& id() const { return id_; }
  DeviceSealer& sealer() { return *sealer_; }
  Rng& rng() { return *rng_; }

 private:
  // At max_queue: frees a place for a new reading; false when the new
  // reading itself is the one dropped.
  bool make_room();

  std::string id_;
  std::unique_ptr<SeededRng> rng_;
  std::unique_ptr<DeviceSealer> sealer_;
  std::unique_ptr<telemetry::ReadingGenerator> gen_;
  std::size_t max_queue_;
  FleetSummary& sum_;
  RingQueue<Outgoing> queue_;  // oldest first
  Steady::time_point next_reading_{};
  Steady::duration period_{};
};

// Starts every device's schedule now (call once all are loaded), spreading
// first readings over one period so the fleet does not fire at once.
// Returns the start.
Steady::time_point start_schedules(std::vector<SimulatedWearable*> devices, Steady::duration period);

Steady::duration period_of(double interval_s, double speedup);

}  // namespace armored::device
