// Fuzzes `audit pcap` without libpcap: the input is a link-type selector
// byte followed by frames, each prefixed by a 2-byte big-endian length.
// Limits are small so eviction and out-of-order caps are reached.

#include <cstddef>
#include <cstdint>

#include "audit/pcap_analyzer.h"
#include "audit/pcap_protocols.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored;
  using namespace armored::audit;
  if (size < 1) return 0;
  static const int kLinks[] = {kDltNull, kDltEthernet, kDltRaw, kDltLoop, kDltLinuxSll, kDltLinuxSll2};
  int dlt = kLinks[data[0] % (sizeof(kLinks) / sizeof(kLinks[0]))];
  PcapLimits limits;
  limits.max_flows = 8;
  limits.max_stream_buffer = 2048;
  limits.max_out_of_order_bytes = 4096;
  limits.max_out_of_order_segments = 4;
  PcapAnalyzer analyzer(limits);
  ByteReader r(ByteSpan(data + 1, size - 1));
  std::uint64_t n = 0;
  std::uint16_t len = 0;
  ByteSpan frame;
  while (r.read_u16be(len) && r.read_bytes(len, frame)) {
    analyzer.on_frame(dlt, frame, ++n);
    // The protocol parsers also see every frame directly.
    (void)parse_mqtt_connect(frame);
    (void)parse_mqtt_publish(frame, frame.size(), 5);
    (void)parse_client_hello(frame);
    (void)parse_server_hello(frame);
    (void)parse_http_request_head(as_string(frame));
  }
  analyzer.finish();
  return 0;
}
