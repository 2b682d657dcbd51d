// libFuzzer target: arbitrary bytes into the MQTT streaming decoder.
// Checks, beyond "no crash": the chunked Decoder and the zero-copy
// decode_frame agree packet for packet, and every accepted packet re-encodes
// to exactly the bytes it was decoded from (the codec accepts only canonical
// encodings).
#include <cstdlib>
#include <cstring>

#include "mqtt/mqtt.h"
#include "mqtt_fuzz_input.h"

using namespace armored;
using namespace armored::mqtt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = fuzz::split_input(data, size);
  Limits limits;
  limits.max_packet_size = 4096;  // small limits reach the limit checks often
  limits.max_topic_length = 64;
  limits.max_payload_size = 1024;
  limits.max_topics_per_packet = 8;

  // Reference: zero-copy decoding of the whole stream.
  std::vector<Bytes> frames;
  std::optional<ErrorCode> ref_error;
  ByteSpan rest = in.stream;
  while (true) {
    auto f = decode_frame(rest, limits);
    if (!f) {
      ref_error = f.error().code;
      break;
    }
    if (!f->has_value()) break;
    const std::size_t n = (*f)->consumed;
    Bytes again;
    if (!append_packet((*f)->packet, again) || again.size() != n || std::memcmp(again.data(), rest.data(), n) != 0) {
      std::abort();  // decoded packet does not re-encode to its input
    }
    frames.emplace_back(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
    rest = rest.subspan(n);
  }

  // The streaming decoder over chunks must see the same packets and error.
  Decoder decoder(limits);
  std::size_t seen = 0;
  std::optional<ErrorCode> error;
  fuzz::for_each_chunk(in, [&](ByteSpan chunk) {
    decoder.feed(chunk);
    while (!error) {
      auto p = decoder.next();
      if (!p) {
        error = p.error().code;
        break;
      }
      if (!p->has_value()) break;
      Bytes enc;
      if (seen >= frames.size() || !append_packet(**p, enc) || enc != frames[seen]) std::abort();
      ++seen;
    }
  });
  if (seen != frames.size() || error != ref_error) std::abort();
  if (error && decoder.counters().count(*error) != 1) std::abort();
  return 0;
}
