// The PUBLISH hot path allocates nothing in steady state: topic and payload
// are views, and buffers keep their capacity. This binary replaces the global
// operator new to count allocations (hence its own test executable).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "mqtt/mqtt.h"

namespace {
std::size_t g_allocations = 0;
}

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace armored::mqtt {
namespace {

constexpr int kRounds = 1000;

Bytes publish_wire(QoS qos, std::uint16_t id) {
  static const Bytes payload(96, 0x5a);
  Bytes wire;
  EXPECT_TRUE(append_packet(Publish{"armored/v1/gw-1/up", payload, qos, false, false, id}, wire));
  return wire;
}

TEST(MqttHotPath, TheCounterSeesAllocations) {
  const std::size_t before = g_allocations;
  Bytes copy = Bytes(64, 1);  // one heap block
  EXPECT_EQ(g_allocations - before, 1u);
  EXPECT_EQ(copy.size(), 64u);
}

TEST(MqttHotPath, EncodePublishIntoACallerBufferDoesNotAllocate) {
  const Bytes payload(96, 0x5a);
  const Publish p{"armored/v1/gw-1/up", payload, QoS::kAtLeastOnce, false, false, 7};
  std::uint8_t buf[256];
  const std::size_t before = g_allocations;
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(encode_publish(p, buf).has_value());
  EXPECT_EQ(g_allocations - before, 0u);
}

TEST(MqttHotPath, ZeroCopyDecodeOfPublishDoesNotAllocate) {
  const Bytes wire = publish_wire(QoS::kAtLeastOnce, 7);
  const std::size_t before = g_allocations;
  for (int i = 0; i < kRounds; ++i) {
    auto f = decode_frame(wire, Limits{});
    ASSERT_TRUE(f.has_value() && f->has_value());
  }
  EXPECT_EQ(g_allocations - before, 0u);
}

TEST(MqttHotPath, StreamingDecoderDoesNotAllocateInSteadyState) {
  const Bytes wire = publish_wire(QoS::kAtLeastOnce, 7);
  Decoder d;
  d.feed(wire);  // warm-up: the buffer reaches its working size
  ASSERT_TRUE(d.next().has_value());
  const std::size_t before = g_allocations;
  for (int i = 0; i < kRounds; ++i) {
    d.feed(ByteSpan(wire).first(40));  // split packets too
    d.feed(ByteSpan(wire).subspan(40));
    auto p = d.next();
    ASSERT_TRUE(p.has_value() && p->has_value());
  }
  EXPECT_EQ(g_allocations - before, 0u);
}

TEST(MqttHotPath, ServerSessionQos0PublishDoesNotAllocateInSteadyState) {
  ServerSession s({}, Time{0});
  Bytes connect;
  Connect c;
  c.client_id = "gw-1";
  ASSERT_TRUE(append_packet(c, connect));
  (void)s.receive(connect, Time{0});
  s.consume_output(s.pending_output().size());
  const Bytes wire = publish_wire(QoS::kAtMostOnce, 0);
  (void)s.receive(wire, Time{0});
  const std::size_t before = g_allocations;
  for (int i = 0; i < kRounds; ++i) {
    auto ev = s.receive(wire, Time{0});
    ASSERT_EQ(ev.size(), 1u);
  }
  EXPECT_EQ(g_allocations - before, 0u);
}

TEST(MqttHotPath, ServerSessionQos1ReceiveAndAckAllocatesRarely) {
  ServerSession s({}, Time{0});
  Bytes connect;
  Connect c;
  c.client_id = "gw-1";
  ASSERT_TRUE(append_packet(c, connect));
  (void)s.receive(connect, Time{0});
  s.consume_output(s.pending_output().size());
  std::vector<Bytes> wires;
  for (int i = 1; i <= kRounds; ++i)
    wires.push_back(publish_wire(QoS::kAtLeastOnce, static_cast<std::uint16_t>(i)));
  const std::size_t before = g_allocations;
  for (const auto& w : wires) {
    auto ev = s.receive(w, Time{0});
    ASSERT_EQ(ev.size(), 1u);
    ASSERT_TRUE(s.acknowledge(ev[0].message.packet_id).has_value());
    s.consume_output(s.pending_output().size());
  }
  // Only the pending-ack deque's block turnover allocates (one block per
  // ~128 packets in libstdc++).
  EXPECT_LE(g_allocations - before, static_cast<std::size_t>(kRounds / 50));
}

}  // namespace
}  // namespace armored::mqtt
