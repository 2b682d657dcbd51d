#pragma once
// What every simulated device needs before it can seal, shared by the UDP
// fleet (fleet.cpp) and the direct-to-cloud fleet (direct.cpp): the fleet's
// enrolment facts, and per device its identity key, its persisted E3 state
// and a sealer with a current epoch.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/rng.h"
#include "crypto/aead.h"
#include "crypto/ec.h"
#include "e3/e3.h"
#include "provision/registry.h"

namespace armored::device {

struct FleetKeys {
  provision::Registry registry;
  crypto::EcPublicKey cloud_public;
  crypto::AeadAlg alg;
};

// Reads the registry and the cloud's public key from `e3_dir`, checks that
// at least `devices` are enrolled and maps `aead` ("" = the hardware default).
Expected<FleetKeys> load_fleet_keys(const std::filesystem::path& e3_dir, std::size_t devices, const std::string& aead);

struct DeviceSealer {
  std::unique_ptr<e3::FileStateStore> store;  // the sealer refers to it: keep together
  std::unique_ptr<SeededRng> rng;             // the device's own stream (reading generator)
  std::optional<e3::Sealer> sealer;
};

// Loads <pki_dir>/device/<id>.key, restores <state_dir>/<id>.e3 when present
// and starts an epoch when there is none or rotation is due. Errors name the device.
Expected<DeviceSealer> open_device_sealer(const FleetKeys& keys, const provision::Enrolment& enrolment,
                                          const std::filesystem::path& pki_dir,
                                          const std::filesystem::path& state_dir, Clock& clock, Rng& sys_rng);

}  // namespace armored::device
