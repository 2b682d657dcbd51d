#include "command/simulated_device.h"

namespace armored::command {

void SimulatedDevice::rebooted(Clock::TimePoint now) {
  ++settings_.reboots;
  started_ = now;
  pending_.reboot = false;
}

Result<std::vector<Param>, Reason> SimulatedDevice::apply(const Command& c, Clock::TimePoint now) {
  const auto one = [](std::string name, Value v) { return std::vector<Param>{{std::move(name), std::move(v)}}; };
  if (c.name == "get_status") {
    std::vector<Param> r;
    if (type_ == "thermostat") {
      r.push_back({"setpoint_c", Value::real(settings_.setpoint_c)});
      r.push_back({"fan_on", Value::boolean(settings_.fan_on)});
    } else {
      r.push_back({"interval_s", Value::integer(settings_.interval_s)});
      r.push_back({"alert_threshold_bpm", Value::integer(settings_.alert_threshold_bpm)});
      r.push_back({"mode", Value::string(settings_.mode)});
      r.push_back({"label", Value::string(settings_.label)});
      r.push_back({"key_rotations", Value::integer(static_cast<std::int64_t>(settings_.key_rotations))});
    }
    r.push_back({"reboots", Value::integer(static_cast<std::int64_t>(settings_.reboots))});
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    r.push_back({"uptime_s", Value::integer(std::max<std::int64_t>(0, up))});
    return r;
  }
  // Validation guarantees each parameter's presence and type.
  if (c.name == "set_interval") {
    settings_.interval_s = c.find("seconds")->i;
    return one("interval_s", Value::integer(settings_.interval_s));
  }
  if (c.name == "set_alert_threshold") {
    settings_.alert_threshold_bpm = c.find("bpm")->i;
    return one("alert_threshold_bpm", Value::integer(settings_.alert_threshold_bpm));
  }
  if (c.name == "set_mode") {
    settings_.mode = c.find("mode")->text;
    return one("mode", Value::string(settings_.mode));
  }
  if (c.name == "set_label") {
    settings_.label = c.find("label")->text;  // stored as data, never interpreted
    return one("label", Value::string(settings_.label));
  }
  if (c.name == "set_temp") {
    settings_.setpoint_c = c.find("degrees")->f;
    return one("setpoint_c", Value::real(settings_.setpoint_c));
  }
  if (c.name == "set_fan") {
    settings_.fan_on = c.find("on")->b;
    return one("fan_on", Value::boolean(settings_.fan_on));
  }
  if (c.name == "rotate_keys") {
    ++settings_.key_rotations;
    pending_.rotate_keys = true;
    return std::vector<Param>{};
  }
  if (c.name == "reboot") {
    pending_.reboot = true;
    const Value* delay = c.find("delay_s");
    return one("delay_s", Value::integer(delay ? delay->i : 0));
  }
  return unexpected(Reason::kUnsupported);
}

}  // namespace armored::command
