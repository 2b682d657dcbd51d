#pragma once
// HTTP/1.1, the small part a read-only dashboard needs (RFC 9110, 9112):
// GET and HEAD requests without bodies, keep-alive, pipelining. Sans-I/O:
// the caller buffers what the socket gave and asks parse_request for the
// next complete request; responses are bytes to write.
//
// Everything else is refused with the status RFC 9110 names for it, and a
// typed reason for counters and the log: a request with a body (the
// dashboard takes no input), other methods, HTTP/2 prefaces and HTTP/0.9,
// and anything over the limits below.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace armored::http {

struct Limits {
  std::size_t max_request_line = 4096;   // method, target and version
  std::size_t max_header_bytes = 16384;  // all header lines together
  std::size_t max_headers = 64;
  std::size_t max_query_params = 32;
};

enum class Refusal : std::uint8_t {
  kMalformedRequestLine,  // 400: not "METHOD SP target SP HTTP/x.y"
  kMalformedHeader,       // 400: no colon, space before the colon, bad characters, obsolete folding
  kBadTarget,             // 400: not origin-form ("/path?query"), bad percent-encoding, NUL, dot segments
  kDuplicateHost,         // 400: none in HTTP/1.1, or more than one (RFC 9112 3.2)
  kBodyNotAllowed,        // 400: Content-Length > 0 or Transfer-Encoding on a read-only endpoint
  kMethodNotAllowed,      // 405: anything but GET and HEAD
  kRequestLineTooLong,    // 414
  kHeadersTooLarge,       // 431: over max_header_bytes or max_headers
  kVersionNotSupported,   // 505: not HTTP/1.0 or HTTP/1.1
};
inline constexpr std::size_t kRefusalCount = static_cast<std::size_t>(Refusal::kVersionNotSupported) + 1;
std::string_view refusal_name(Refusal r);  // "malformed_request_line", ...
int refusal_status(Refusal r);             // 400, 405, 414, 431, 505

struct Request {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // percent-decoded, starts with '/', no "." or ".." segments
  std::map<std::string, std::string> query;  // decoded; a repeated name keeps its last value
  std::map<std::string, std::string> headers;  // names lower-cased; repeated ones joined with ", "
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive
  std::string header(std::string_view lower_name) const;  // "" if absent
};

struct Parsed {
  enum class Kind : std::uint8_t { kIncomplete, kRequest, kRefused } kind = Kind::kIncomplete;
  std::size_t consumed = 0;  // bytes of the buffer this request used (kRequest)
  Request request;
  Refusal refusal{};
};

// Looks for one complete request at the start of `buffer`. kIncomplete
// means more bytes are needed (and the limits are not exceeded yet); after
// kRefused the connection answers with refusal_status and closes.
Parsed parse_request(std::string_view buffer, const Limits& limits = {});

// A complete response. Every response carries no-store caching, nosniff,
// a strict same-origin Content-Security-Policy, frame denial and no
// referrer: the dashboard shows a fleet's health and must not leak it.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
};
// `head_only`: HEAD, the headers of the GET without its body.
std::string serialize(const Response& r, bool keep_alive, bool head_only = false);
std::string_view status_text(int status);

}  // namespace armored::http
