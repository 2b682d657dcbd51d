#include <algorithm>
#include <cctype>

#include "http/http.h"

namespace armored::http {

namespace {

// RFC 9110 5.6.2: tchar.
bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

// Field values: visible characters, obs-text, space and tab (RFC 9110 5.5);
// CR, LF and NUL are never allowed.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || u >= 0x20 ? u != 0x7f : false;
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; `plus_is_space` for query components. Fails on a bad
// escape and on any control character once decoded (NUL included).
std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    out.push_back(c);
  }
  return out;
}

// The next line of `buf` from `at`: its text without CR LF (a bare LF is
// accepted as a line end, RFC 9112 2.2), and where the next one starts.
struct Line {
  std::string_view text;
  std::size_t next = 0;
};
std::optional<Line> next_line(std::string_view buf, std::size_t at) {
  const auto nl = buf.find('\n', at);
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view text = buf.substr(at, nl - at);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{text, nl + 1};
}

Parsed refuse(Refusal r) {
  Parsed p;
  p.kind = Parsed::Kind::kRefused;
  p.refusal = r;
  return p;
}

bool parse_target(std::string_view target, const Limits& limits, Request& req) {
  if (target.empty() || target.front() != '/') return false;  // origin-form only
  if (target.find('#') != std::string_view::npos) return false;
  const auto q = target.find('?');
  auto path = decode(target.substr(0, q), /*plus_is_space=*/false);
  if (!path) return false;
  // Dot segments are refused rather than resolved: no path here has them.
  for (std::size_t start = 1; start <= path->size();) {
    const auto end = std::min(path->find('/', start), path->size());
    const std::string_view seg(path->data() + start, end - start);
    if (seg == "." || seg == "..") return false;
    start = end + 1;
  }
  req.path = std::move(*path);
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  std::size_t count = 0;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (++count > limits.max_query_params) return false;
    const auto eq = pair.find('=');
    auto name = decode(pair.substr(0, eq), true);
    auto value = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value || name->empty()) return false;
    req.query[*name] = std::move(*value);
  }
  return true;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (lower(trim_ows(list.substr(0, comma))) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string_view refusal_name(Refusal r) {
  switch (r) {
    case Refusal::kMalformedRequestLine: return "malformed_request_line";
    case Refusal::kMalformedHeader: return "malformed_header";
    case Refusal::kBadTarget: return "bad_target";
    case Refusal::kDuplicateHost: return "bad_host";
    case Refusal::kBodyNotAllowed: return "body_not_allowed";
    case Refusal::kMethodNotAllowed: return "method_not_allowed";
    case Refusal::kRequestLineTooLong: return "request_line_too_long";
    case Refusal::kHeadersTooLarge: return "headers_too_large";
    case Refusal::kVersionNotSupported: return "version_not_supported";
  }
  return "unknown";
}

int refusal_status(Refusal r) {
  switch (r) {
    case Refusal::kMethodNotAllowed: return 405;
    case Refusal::kRequestLineTooLong: return 414;
    case Refusal::kHeadersTooLarge: return 431;
    case Refusal::kVersionNotSupported: return 505;
    default: return 400;
  }
}

std::string Request::header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

Parsed parse_request(std::string_view buf, const Limits& limits) {
  // RFC 9112 2.2: empty lines before the request line are skipped.
  std::size_t at = 0;
  for (int i = 0; i < 4 && at < buf.size() && (buf[at] == '\r' || buf[at] == '\n'); ++i) {
    at += buf[at] == '\r' && at + 1 < buf.size() && buf[at + 1] == '\n' ? 2 : 1;
  }
  auto line = next_line(buf, at);
  // A request line is printable text: binary bytes (a TLS ClientHello, a
  // scanner's probe) are refused at once rather than waited on.
  const std::string_view so_far = buf.substr(at, line ? line->text.size() : std::string_view::npos);
  if (std::any_of(so_far.begin(), so_far.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\r') || u == 0x7f;
      })) {
    return refuse(Refusal::kMalformedRequestLine);
  }
  if (!line) {
    if (buf.size() - at > limits.max_request_line) return refuse(Refusal::kRequestLineTooLong);
    return {};
  }
  if (line->text.size() > limits.max_request_line) return refuse(Refusal::kRequestLineTooLong);

  // METHOD SP request-target SP HTTP-version, single spaces (RFC 9112 3).
  const std::string_view rl = line->text;
  const auto sp1 = rl.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : rl.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || rl.find(' ', sp2 + 1) != std::string_view::npos) {
    return refuse(Refusal::kMalformedRequestLine);
  }
  const std::string_view method = rl.substr(0, sp1), target = rl.substr(sp1 + 1, sp2 - sp1 - 1),
                         version = rl.substr(sp2 + 1);
  if (!is_token(method) || target.empty()) return refuse(Refusal::kMalformedRequestLine);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5])) ||
      version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return refuse(Refusal::kMalformedRequestLine);
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return refuse(Refusal::kVersionNotSupported);
  const bool http11 = version == "HTTP/1.1";
  if (method != "GET" && method != "HEAD") return refuse(Refusal::kMethodNotAllowed);

  Parsed out;
  Request& req = out.request;
  req.method = std::string(method);
  if (!parse_target(target, limits, req)) return refuse(Refusal::kBadTarget);

  std::size_t header_start = line->next, count = 0, hosts = 0;
  for (std::size_t pos = header_start;;) {
    auto h = next_line(buf, pos);
    if (!h) {
      if (buf.size() - header_start > limits.max_header_bytes) return refuse(Refusal::kHeadersTooLarge);
      return {};  // the header block is not complete yet
    }
    if (h->next - header_start > limits.max_header_bytes) return refuse(Refusal::kHeadersTooLarge);
    pos = h->next;
    if (h->text.empty()) {
      out.consumed = pos;
      break;
    }
    if (++count > limits.max_headers) return refuse(Refusal::kHeadersTooLarge);
    const std::string_view text = h->text;
    if (text.front() == ' ' || text.front() == '\t') return refuse(Refusal::kMalformedHeader);  // obs-fold
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || !is_token(text.substr(0, colon))) return refuse(Refusal::kMalformedHeader);
    const std::string_view value = trim_ows(text.substr(colon + 1));
    if (!is_field_value(value)) return refuse(Refusal::kMalformedHeader);
    const std::string name = lower(text.substr(0, colon));
    if (name == "host") ++hosts;
    auto [it, fresh] = req.headers.emplace(name, std::string(value));
    if (!fresh) it->second += ", " + std::string(value);
  }
  if (hosts > 1 || (http11 && hosts == 0)) return refuse(Refusal::kDuplicateHost);
  if (req.headers.count("transfer-encoding")) return refuse(Refusal::kBodyNotAllowed);
  if (auto cl = req.headers.find("content-length"); cl != req.headers.end() && cl->second != "0") {
    return refuse(Refusal::kBodyNotAllowed);
  }
  const std::string connection = req.header("connection");
  req.keep_alive = http11 ? !has_token(connection, "close") : has_token(connection, "keep-alive");
  out.kind = Parsed::Kind::kRequest;
  return out;
}

}  // namespace armored::http
