// libFuzzer target: every E3 entry point that takes bytes from the network:
// header parser, announcement parser, batch decoder, and the Opener itself.

#include <cstddef>
#include <cstdint>

#include "e3/announcement.h"
#include "e3_fuzz_world.h"

using namespace armored;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static e3::fuzz::World* world = new e3::fuzz::World();  // lives for the process
  const ByteSpan in(data, size);
  std::array<std::uint8_t, 2048> out{};
  if (auto h = e3::parse_header(in); h) {
    if (h->header_size > in.size() || h->body.size() + h->header_size != in.size()) __builtin_trap();
  }
  (void)e3::parse_announcement(in);
  if (auto b = e3::decode_batch(in, {.max_messages = 255, .max_message_size = 65535})) {
    for (ByteSpan m : *b) (void)world->opener.open(m, out);
  }
  if (auto r = world->opener.open(in, out); r) {
    if (r->plaintext_size > out.size()) __builtin_trap();
  }
  (void)world->opener.accept_announcement(in);
  (void)world->sealer.open_command(in, out);
  return 0;
}
