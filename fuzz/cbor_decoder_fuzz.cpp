// libFuzzer target: the strict CBOR decoder. Whatever it accepts must span
// the whole input exactly once (no trailing bytes, no overlap).

#include <cstddef>
#include <cstdint>

#include "cbor/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const armored::ByteSpan in(data, size);
  auto r = armored::cbor::decode(in, {.max_depth = 16, .max_items = 4096, .max_string = 65536});
  if (r && (r->encoded.data() != in.data() || r->encoded.size() != in.size())) __builtin_trap();
  return 0;
}
