#pragma once
// The actions of a simulated device (the fleet simulator's wearables and
// thermostats): commands change its settings, get_status reports them.
// What a real device would do physically (reboot, rotate its keys) is
// recorded as a request the owner carries out after sending the reply.

#include <cstdint>
#include <string>
#include <vector>

#include "command/processor.h"

namespace armored::command {

struct DeviceSettings {
  std::int64_t interval_s = 30;            // set_interval seconds
  std::int64_t alert_threshold_bpm = 120;  // set_alert_threshold bpm
  std::string mode = "normal";             // set_mode mode
  std::string label;                       // set_label label (inert text)
  double setpoint_c = 21.0;                // set_temp degrees (thermostat)
  bool fan_on = false;                     // set_fan on (thermostat)
  std::uint64_t reboots = 0;               // reboots performed
  std::uint64_t key_rotations = 0;         // rotate_keys requests taken
  bool operator==(const DeviceSettings&) const = default;
};

// Requests the owner acts on after the reply is sealed (and clears).
struct PendingRequests {
  bool rotate_keys = false;
  bool reboot = false;
};

// Actions by command name:
//   get_status                 -> result: the settings of its type, reboots,
//                                 key_rotations, uptime_s
//   set_interval seconds       -> interval_s
//   set_alert_threshold bpm    -> alert_threshold_bpm
//   set_mode mode              -> mode
//   set_label label            -> label
//   set_temp degrees           -> setpoint_c
//   set_fan on                 -> fan_on
//   rotate_keys                -> pending.rotate_keys
//   reboot                     -> pending.reboot (the owner restarts and calls rebooted())
// Anything else is kUnsupported. Changing setters report the new value as result.
class SimulatedDevice final : public Actuator {
 public:
  // device_type "thermostat" reports setpoint_c and fan_on in get_status;
  // any other type reports the wearable's settings.
  SimulatedDevice(DeviceSettings initial, Clock::TimePoint started, std::string device_type = "wearable")
      : settings_(std::move(initial)), started_(started), type_(std::move(device_type)) {}

  Result<std::vector<Param>, Reason> apply(const Command& command, Clock::TimePoint now) override;

  const DeviceSettings& settings() const { return settings_; }
  PendingRequests& pending() { return pending_; }
  // Records a completed reboot at `now` (uptime restarts, the count grows).
  void rebooted(Clock::TimePoint now);

 private:
  DeviceSettings settings_;
  PendingRequests pending_;
  Clock::TimePoint started_;
  std::string type_;
};

}  // namespace armored::command
