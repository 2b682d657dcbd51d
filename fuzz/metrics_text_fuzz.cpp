// The metrics text parser behind `armored status` on arbitrary bytes:
// never crashes, and every sample it returns has a valid metric name.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "metrics/scrape.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  armored::metrics::ScrapeLimits limits;
  limits.max_bytes = 1 << 16;
  limits.max_line = 512;
  limits.max_samples = 256;
  auto parsed = armored::metrics::parse_text(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!parsed) return 0;
  if (parsed->size() > limits.max_samples) std::abort();
  for (const auto& s : *parsed) {
    if (s.name.empty() || (s.name[0] >= '0' && s.name[0] <= '9')) std::abort();
  }
  return 0;
}
