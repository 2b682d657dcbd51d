#pragma once
// Shared input convention of the MQTT fuzzers: the first byte picks how the
// rest is cut into chunks (0: all at once, n: n bytes per chunk), so the
// fuzzer explores split points as well as packet contents.

#include <cstddef>
#include <cstdint>
#include <span>

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

}  // namespace armored::mqtt::fuzz
