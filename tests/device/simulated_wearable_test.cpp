// The one simulated wearable both fleet modes use (UDP via a gateway, MQTT
// straight to the cloud): when its clock starts, what it drops on overflow
// and what happens at an epoch rotation (src/device/internal/simulated_wearable.h).
// A stand-in sealer keeps the tests about those rules, not about E3.

#include "device/internal/simulated_wearable.h"

#include <gtest/gtest.h>

#include "e3/wire.h"

namespace armored::device {
namespace {
using namespace std::chrono_literals;

// Seals a reading as [uplink flags, epoch, sequence]; an announcement is
// [announcement flags, epoch].
class StandInSealer final : public DeviceSealer {
 public:
  bool rotate_next = false;  // the next rotation_due() says yes, once

  e3::E3Result<Bytes> start_epoch() override {
    ++epoch_;
    announcement_ = {e3::make_flags(e3::MessageType::kAnnouncement, 1, 1), static_cast<std::uint8_t>(epoch_)};
    return announcement_;
  }
  const Bytes& announcement() const override { return announcement_; }
  bool rotation_due() const override { return std::exchange(const_cast<StandInSealer*>(this)->rotate_next, false); }
  std::size_t sealed_size(std::size_t) const override { return 3; }
  e3::E3Result<std::size_t> seal(ByteSpan, MutableByteSpan out_) override {
    out_[0] = e3::make_flags(e3::MessageType::kUplink, 1, 1);
    out_[1] = static_cast<std::uint8_t>(epoch_);
    out_[2] = static_cast<std::uint8_t>(seq_++);
    return std::size_t{3};
  }
  e3::E3Result<e3::OpenedCommand> open_command(ByteSpan, MutableByteSpan) override {
    return unexpected(e3::E3Error{});
  }
  std::uint32_t epoch() const override { return epoch_; }
  std::uint64_t next_sequence() const override { return seq_; }

 private:
  std::uint32_t epoch_ = 0;
  std::uint64_t seq_ = 0;
  Bytes announcement_;
};

struct World {
  explicit World(std::size_t max_queue = 100) {
    auto sealer = std::make_unique<StandInSealer>();
    stand_in = sealer.get();
    (void)sealer->start_epoch();  // as open_device_sealer does
    wearable.emplace("patient-0001", OpenedDevice{std::make_unique<SeededRng>(7), std::move(sealer)}, max_queue, sum);
  }
  bool is_announcement(std::size_t i) { return wearable->queue()[i].kind == Outgoing::Kind::kAnnouncement; }
  std::uint8_t epoch_of(std::size_t i) { return wearable->queue()[i].message[1]; }

  FleetSummary sum;
  StandInSealer* stand_in = nullptr;
  std::optional<SimulatedWearable> wearable;
};

TEST(SimulatedWearableTest, TheAnnouncementGoesFirstAndHoldsBackTheReadings) {
  World w;
  ASSERT_EQ(w.wearable->queued(), 1u);
  EXPECT_TRUE(w.is_announcement(0));
  EXPECT_EQ(w.sum.announcements, 1u);
  const auto t0 = Steady::now();
  w.wearable->start(t0, 1s);
  ASSERT_TRUE(w.wearable->produce(t0 + 2500ms, 0));
  EXPECT_EQ(w.sum.readings, 3u);  // due at 0, 1 and 2 s
  EXPECT_EQ(w.wearable->sendable(64), 1u) << "nothing behind the unconfirmed announcement";
  w.wearable->confirm(0);
  EXPECT_EQ(w.sum.acknowledged, 1u);
  EXPECT_EQ(w.sum.readings_acknowledged, 0u);
  EXPECT_EQ(w.wearable->sendable(64), 3u);
  EXPECT_EQ(w.wearable->sendable(2), 2u);
  w.wearable->confirm(0);
  EXPECT_EQ(w.sum.readings_acknowledged, 1u);
}

TEST(SimulatedWearableTest, TheClockStartsWhenEveryDeviceIsLoadedSpreadOverOnePeriod) {
  World a, b, c, d;
  std::vector<SimulatedWearable*> all{&*a.wearable, &*b.wearable, &*c.wearable, &*d.wearable};
  const auto start = start_schedules(all, 4s);
  // At the start only the first device is due; no device is behind.
  for (auto* w : all) ASSERT_TRUE(w->produce(start, 0));
  EXPECT_EQ(a.sum.readings, 1u);
  EXPECT_EQ(b.sum.readings + c.sum.readings + d.sum.readings, 0u);
  for (auto* w : all) ASSERT_TRUE(w->produce(start + 3s, 0));
  EXPECT_EQ(b.sum.readings, 1u);  // due at 1 s
  EXPECT_EQ(c.sum.readings, 1u);  // 2 s
  EXPECT_EQ(d.sum.readings, 1u);  // 3 s
  EXPECT_EQ(a.sum.readings, 1u);  // next at 4 s
}

TEST(SimulatedWearableTest, RotationQueuesTheAnnouncementAndSkipsNoReading) {
  World w;
  const auto t0 = Steady::now();
  w.wearable->start(t0, 1s);
  w.wearable->confirm(0);  // epoch 1 is known
  ASSERT_TRUE(w.wearable->produce(t0 + 1500ms, 0));  // readings at 0 and 1 s, epoch 1
  w.stand_in->rotate_next = true;
  ASSERT_TRUE(w.wearable->produce(t0 + 3500ms, 0));  // at 2 s: rotation, then readings at 2 and 3 s
  EXPECT_EQ(w.sum.readings, 4u) << "one reading per period, rotation or not";
  EXPECT_EQ(w.sum.announcements, 2u);
  ASSERT_EQ(w.wearable->queued(), 5u);
  EXPECT_EQ(w.epoch_of(0), 1);
  EXPECT_EQ(w.epoch_of(1), 1);
  EXPECT_TRUE(w.is_announcement(2));
  EXPECT_EQ(w.epoch_of(2), 2);
  EXPECT_EQ(w.epoch_of(3), 2);
  EXPECT_EQ(w.epoch_of(4), 2);
  // The old epoch's readings may go; the new epoch's wait for its announcement.
  EXPECT_EQ(w.wearable->sendable(64), 3u);
  w.wearable->confirm(2);
  EXPECT_EQ(w.wearable->sendable(64), 4u);
}

TEST(SimulatedWearableTest, OverflowDropsTheOldestReadingNotInFlightNeverAnAnnouncement) {
  World w(4);
  const auto t0 = Steady::now();
  w.wearable->start(t0, 1s);
  ASSERT_TRUE(w.wearable->produce(t0 + 2500ms, 0));  // [ann, r0, r1, r2]
  ASSERT_EQ(w.wearable->queued(), 4u);
  auto& q = w.wearable->queue();
  q[1].packet_id = 11;  // r0 is published and awaits its PUBACK
  q[2].sends = 1;       // r1 was sent once (UDP), no answer yet
  ASSERT_TRUE(w.wearable->produce(t0 + 3500ms, 0));  // r3 arrives: r1 goes
  ASSERT_EQ(w.wearable->queued(), 4u);
  EXPECT_TRUE(w.is_announcement(0));
  EXPECT_EQ(q[1].message[2], 0);  // r0, in flight, kept
  EXPECT_EQ(q[2].message[2], 2);
  EXPECT_EQ(q[3].message[2], 3);
  EXPECT_EQ(w.sum.dropped, 1u);
  EXPECT_EQ(w.sum.dropped_after_send, 1u) << "r1 had been sent: the cloud may still store it";
  ASSERT_TRUE(w.wearable->produce(t0 + 4500ms, 0));  // r4: r2 (never sent) goes
  EXPECT_EQ(w.sum.dropped, 2u);
  EXPECT_EQ(w.sum.dropped_after_send, 1u);
  EXPECT_EQ(q[2].message[2], 3);
  EXPECT_EQ(q[3].message[2], 4);
  // Every reading in flight: the new one is dropped, the queue keeps its bound.
  q[2].packet_id = 12;
  q[3].packet_id = 13;
  ASSERT_TRUE(w.wearable->produce(t0 + 5500ms, 0));
  EXPECT_EQ(w.sum.dropped, 3u);
  EXPECT_EQ(w.sum.readings, 6u);
  ASSERT_EQ(w.wearable->queued(), 4u);
  EXPECT_TRUE(w.is_announcement(0));
}

}  // namespace
}  // namespace armored::device
