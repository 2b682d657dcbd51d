#include "device/internal/simulated_wearable.h"

#include <array>

#include "e3/wire.h"

namespace armored::device {

Steady::duration period_of(double interval_s, double speedup) {
  return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(interval_s / speedup));
}

SimulatedWearable::SimulatedWearable(std::string id, OpenedDevice opened, std::size_t max_queue, FleetSummary& sum)
    : id_(std::move(id)), rng_(std::move(opened.rng)), sealer_(std::move(opened.sealer)),
      gen_(std::make_unique<telemetry::ReadingGenerator>(*rng_)), max_queue_(std::max<std::size_t>(1, max_queue)),
      sum_(sum) {
  queue_message(sealer_->announcement());
}

void SimulatedWearable::start(Steady::time_point first, Steady::duration period) {
  next_reading_ = first;
  period_ = period;
}

void SimulatedWearable::restart_schedule(Steady::time_point now, Steady::duration period) {
  period_ = period;
  next_reading_ = now + period;
}

void SimulatedWearable::queue_message(ByteSpan message) {
  Outgoing o;
  o.message.assign(message);
  const bool announcement = !message.empty() && e3::flags_type(message[0]) == e3::MessageType::kAnnouncement;
  o.kind = announcement ? Outgoing::Kind::kAnnouncement : Outgoing::Kind::kReply;
  if (announcement) ++sum_.announcements;
  queue_.push_back(std::move(o));
}

bool SimulatedWearable::make_room() {
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    const Outgoing& o = queue_[i];
    if (o.kind != Outgoing::Kind::kReading || o.in_flight()) continue;
    if (o.sends > 0) ++sum_.dropped_after_send;
    queue_.erase(i);
    ++sum_.dropped;
    return true;
  }
  ++sum_.dropped;  // every queued reading is in flight: the new one goes
  return false;
}

Status SimulatedWearable::produce(Steady::time_point now, std::uint32_t wall_s, const ReadingHook& hook) {
  std::array<std::uint8_t, 256> sealed{};
  for (int k = 0; k < 16 && next_reading_ <= now; ++k) {
    next_reading_ += period_;
    if (sealer_->rotation_due()) {
      // The announcement goes ahead of the reading sealed in its epoch; the
      // reading is not skipped.
      auto ann = sealer_->start_epoch();
      if (!ann) return fail("device " + id_, ann.error());
      queue_message(*ann);
    }
    const auto r = gen_->next(wall_s, 30);
    auto n = sealer_->seal(telemetry::encode(r), sealed);
    if (!n) return fail("device " + id_, n.error());
    ++sum_.readings;
    if (hook) ARMORED_TRY(hook(r, ByteSpan(sealed.data(), *n)));
    if (queue_.size() >= max_queue_ && !make_room()) continue;
    Outgoing o;
    o.message.assign(ByteSpan(sealed.data(), *n));
    o.kind = Outgoing::Kind::kReading;
    queue_.push_back(std::move(o));
  }
  return {};
}

std::size_t SimulatedWearable::sendable(std::size_t limit) const {
  const std::size_t n = std::min(limit, queue_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (queue_[i].kind == Outgoing::Kind::kAnnouncement) return i + 1;
  }
  return n;
}

void SimulatedWearable::confirm(std::size_t i) {
  if (queue_[i].kind == Outgoing::Kind::kReading) ++sum_.readings_acknowledged;
  ++sum_.acknowledged;
  queue_.erase(i);
}

Steady::time_point start_schedules(std::vector<SimulatedWearable*> devices, Steady::duration period) {
  const auto start = Steady::now();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    devices[i]->start(start + std::chrono::duration_cast<Steady::duration>(
                                  period * (static_cast<double>(i) / static_cast<double>(devices.size()))),
                      period);
  }
  return start;
}

}  // namespace armored::device
