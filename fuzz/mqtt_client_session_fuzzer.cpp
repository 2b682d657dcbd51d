// libFuzzer target: arbitrary bytes into a ClientSession as a hostile broker
// would send them, with deferred acknowledgements as the cloud's broker
// source uses them. The session must never crash, and whatever it queues
// for the broker must itself decode as valid MQTT.
#include <cstdlib>

#include "mqtt/mqtt.h"
#include "mqtt_fuzz_input.h"

using namespace armored;
using namespace armored::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = fuzz::split_input(data, size);
  ClientOptions options;
  options.client_id = "armored-cloud";
  options.clean_session = false;
  options.keep_alive_s = 2;
  options.deferred_acks = true;
  options.max_pending_acks = 8;
  options.max_inflight = 4;
  options.limits.max_packet_size = 4096;
  ClientSession session(options);
  Decoder output(Limits{});  // what the broker would receive
  Time now{0};
  std::size_t step = 0;
  (void)session.connect(now);
  fuzz::for_each_chunk(in, [&](ByteSpan chunk) {
    now += std::chrono::milliseconds(700 * (chunk[0] % 8));
    for (const auto& e : session.receive(chunk, now)) {
      if (e.kind == ClientEvent::Kind::kConnected) {
        TopicRequest t{"armored/v1/+/up", QoS::kAtLeastOnce};
        (void)session.subscribe(std::span<const TopicRequest>(&t, 1), now);
        (void)session.publish("armored/v1/x/down", chunk, QoS::kAtLeastOnce, false, now, (step & 1) != 0);
      }
      // Acknowledge some at once, some never (storage still busy).
      if (e.kind == ClientEvent::Kind::kMessage && e.message.qos == QoS::kAtLeastOnce && (step % 3) != 2) {
        (void)session.acknowledge(e.message.packet_id);
      }
      if (e.kind == ClientEvent::Kind::kClosed && (step % 4) == 0) (void)session.connect(now);
    }
    (void)session.on_timer(now);
    ++step;
    fuzz::drain_well_formed(session, output);
  });
  return 0;
}
