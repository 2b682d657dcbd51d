// Decodes arbitrary bytes as a reading. A decoded reading must re-encode to
// the same bytes (the layout has no slack), and validate() must not crash.
#include <cstdlib>
#include <cstring>

#include "telemetry/reading.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored::telemetry;
  auto r = decode(armored::ByteSpan(data, size));
  if (!r) return 0;
  auto again = encode(*r);
  if (std::memcmp(again.data(), data, kReadingSize) != 0) std::abort();
  (void)validate(*r, armored::Clock::TimePoint{std::chrono::seconds{1'700'000'000}});
  return 0;
}
