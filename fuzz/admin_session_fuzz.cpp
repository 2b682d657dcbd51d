// Feeds arbitrary bytes to the admin socket's protocol session, split at
// an input-chosen point: framing, length limits and the request parser must
// never crash, and every response must be a well-formed frame.
#include <cstdlib>

#include "cloud/admin_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored;
  using namespace armored::cloud;
  AdminCounters counters;
  AdminLimits limits;
  limits.max_request_bytes = 4096;
  limits.max_requests_per_connection = 8;
  AdminSession s(limits, [](const AdminRequest& r) { return admin_ok({{"device", r.device}}); }, counters);
  const std::size_t split = size > 0 ? data[0] % (size + 1) : 0;
  s.receive(ByteSpan(data, size).first(split));
  s.receive(ByteSpan(data, size).subspan(split));
  s.end_of_input();
  ByteSpan out = s.output();
  while (!out.empty()) {
    std::size_t used = 0;
    auto r = parse_admin_response(out, 1 << 20, used);
    if (!r || !*r) std::abort();
    out = out.subspan(used);
  }
  return 0;
}
