// Decodes arbitrary bytes as a command and as a reply. The encoding is
// canonical, so anything the decoder accepts must re-encode to exactly the
// input; a decoded command then goes through the device's checks (schema
// validation, processor) which must not crash either.
#include <cstdlib>

#include "command/codec.h"
#include "command/processor.h"
#include "command/simulated_device.h"

namespace {
using namespace armored;
using namespace armored::command;

const Clock::TimePoint kNow{std::chrono::milliseconds{1'700'000'000'000}};

void same_or_abort(const Result<Bytes, CodecError>& again, ByteSpan input) {
  if (!again || again->size() != input.size() || !std::equal(input.begin(), input.end(), again->begin())) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  if (auto c = decode_command(in)) {
    same_or_abort(encode_command(*c), in);
    Validator v(Schema::builtin());
    (void)v.check("wearable", *c);
    (void)v.check("thermostat", *c);
  }
  if (auto r = decode_reply(in)) same_or_abort(encode_reply(*r), in);
  // The device's whole path, with a fresh device each time (deterministic).
  SimulatedDevice sim(DeviceSettings{}, kNow);
  CommandProcessor proc(Schema::builtin(), "wearable", sim);
  const Bytes reply = proc.handle_to_wire(in, kNow);
  if (!decode_reply(reply)) std::abort();
  return 0;
}
