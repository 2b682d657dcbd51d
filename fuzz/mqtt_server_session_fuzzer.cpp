// libFuzzer target: arbitrary bytes into a ServerSession, as a hostile client
// would send them. The session must never crash, and whatever it queues for
// the client must itself decode as valid MQTT.
#include <cstdlib>

#include "mqtt/mqtt.h"
#include "mqtt_fuzz_input.h"

using namespace armored;
using namespace armored::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = fuzz::split_input(data, size);
  ServerOptions options;
  options.limits.max_packet_size = 4096;
  options.max_pending_acks = 8;
  options.max_inflight = 4;
  options.authorize_subscribe = [](std::string_view filter, QoS q) {
    return filter.starts_with("armored/") ? static_cast<SubAckCode>(q) : SubAckCode::kFailure;
  };
  ServerSession session(options, Time{0});
  Decoder output(Limits{});  // what the client would receive
  Time now{0};
  std::size_t step = 0;
  fuzz::for_each_chunk(in, [&](ByteSpan chunk) {
    now += std::chrono::milliseconds(700 * (chunk[0] % 8));
    for (const auto& e : session.receive(chunk, now)) {
      if (e.kind == ServerEvent::Kind::kMessage && e.message.qos == QoS::kAtLeastOnce &&
          (step % 3) != 2) {
        (void)session.acknowledge(e.message.packet_id);
      }
      if (e.kind == ServerEvent::Kind::kSubscribed && !e.granted.empty()) {
        (void)session.publish("armored/v1/x/down", chunk, QoS::kAtLeastOnce, false, now);
      }
    }
    (void)session.on_timer(now);
    ++step;
    fuzz::drain_well_formed(session, output);
  });
  return 0;
}
