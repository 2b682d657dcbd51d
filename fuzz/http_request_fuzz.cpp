// The dashboard's HTTP request parser on arbitrary bytes: never crashes,
// never reads past the buffer, and what it accepts obeys its own promises
// (a path that starts with '/' and has no dot segment or control byte, a
// length within the buffer), whatever the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/http.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored::http;
  if (size < 1) return 0;
  Limits limits;
  limits.max_request_line = 16 + data[0] * 4;
  limits.max_header_bytes = 32 + data[0] * 8;
  limits.max_headers = 1 + data[0] % 16;
  std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);
  // Pipelined: parse until the input is used up or refused.
  while (!buf.empty()) {
    Parsed p = parse_request(buf, limits);
    if (p.kind != Parsed::Kind::kRequest) break;
    if (p.consumed == 0 || p.consumed > buf.size()) std::abort();
    const std::string& path = p.request.path;
    if (path.empty() || path[0] != '/') std::abort();
    if (path.find("/../") != std::string::npos || path.find("/./") != std::string::npos) std::abort();
    for (char c : path) {
      if (static_cast<unsigned char>(c) < 0x20) std::abort();
    }
    if (p.request.method != "GET" && p.request.method != "HEAD") std::abort();
    (void)serialize(Response{}, p.request.keep_alive, p.request.method == "HEAD");
    buf.remove_prefix(p.consumed);
  }
  return 0;
}
