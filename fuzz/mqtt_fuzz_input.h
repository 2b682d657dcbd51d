#pragma once
// Shared input convention of the MQTT fuzzers: the first byte picks how the
// rest is cut into chunks (0: all at once, n: n bytes per chunk), so the
// fuzzer explores split points as well as packet contents.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "mqtt/decoder.h"

namespace armored::mqtt::fuzz {

struct FuzzInput {
  std::size_t chunk;  // 0: whole stream
  std::span<const std::uint8_t> stream;
};

inline FuzzInput split_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {0, {}};
  return {static_cast<std::size_t>(data[0] % 64), {data + 1, size - 1}};
}

template <typename F>
void for_each_chunk(const FuzzInput& in, F&& f) {
  const std::size_t step = in.chunk == 0 ? in.stream.size() : in.chunk;
  for (std::size_t pos = 0; pos < in.stream.size(); pos += step) {
    f(in.stream.subspan(pos, std::min(step, in.stream.size() - pos)));
  }
}

// Moves what a session wrote into `peer` (a decoder standing for the other
// side) and aborts if any of it is not a well-formed packet: a session must
// never emit bytes its peer would refuse, whatever it was fed.
template <typename Session>
void drain_well_formed(Session& session, Decoder& peer) {
  peer.feed(session.pending_output());
  session.consume_output(session.pending_output().size());
  while (true) {
    auto p = peer.next();
    if (!p) std::abort();
    if (!p->has_value()) break;
  }
}

}  // namespace armored::mqtt::fuzz
