#pragma once
// `armored fleet --direct`: each simulated wearable talks MQTT over TLS 1.3
// straight to the cloud, with no gateway. A device is then a gateway of
// itself: mutual TLS with its own certificate from `armored pki fleet`, and
// it publishes its sealed messages to armored/v1/<device-id>/up with QoS 1.
// A message leaves the device's queue only when its PUBACK arrives (the
// cloud acknowledges after the reading is durable).
//
// So that thousands of devices do not stampede the cloud, at most
// `max_connecting` handshakes are in progress at once; a device that fails
// to connect waits an exponential back-off with jitter. Each device keeps
// its own session ticket (state_dir/tickets/<id>/) and resumes with it.

#include <cstdint>
#include <string>

#include "device/fleet.h"

namespace armored::device {

struct DirectOptions {
  std::string cloud_host = "localhost";  // also the name checked in the cloud's certificate
  std::uint16_t cloud_port = 8883;
  std::size_t max_connecting = 32;  // handshakes in progress at once
  std::size_t max_inflight = 16;    // QoS 1 PUBLISHes awaiting PUBACK, per device
  std::uint16_t keep_alive_s = 60;
};

struct DirectSummary {
  FleetSummary fleet;  // acknowledged = PUBACKs received
  std::uint64_t connects = 0, resumed = 0, connect_failures = 0;
};

// Runs the fleet in direct mode until options.duration_s has passed and
// every message is acknowledged (or drain_s more has passed). Errors only
// for unusable inputs (missing keys, unknown AEAD, too few enrolled devices).
Expected<DirectSummary> run_direct_fleet(const FleetOptions& options, const DirectOptions& direct,
                                         const FleetProgress& progress = {});

}  // namespace armored::device
