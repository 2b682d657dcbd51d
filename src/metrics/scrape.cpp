#include "metrics/scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace armored::metrics {

namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

Status line_error(std::size_t line, const std::string& what) {
  return fail("metrics text, line " + std::to_string(line) + ": " + what);
}

std::optional<double> parse_value(std::string_view v) {
  if (v == "+Inf" || v == "Inf") return INFINITY;
  if (v == "-Inf") return -INFINITY;
  if (v == "NaN") return NAN;
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return d;
}

// Labels between '{' and '}': name="value" pairs, values with \\, \" and \n escapes.
bool parse_labels(std::string_view& rest, std::map<std::string, std::string>& out) {
  rest.remove_prefix(1);  // '{'
  for (;;) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == '}') {
      rest.remove_prefix(1);
      return true;
    }
    std::size_t n = 0;
    while (n < rest.size() && name_char(rest[n], n == 0)) ++n;
    if (n == 0 || n + 1 >= rest.size() || rest[n] != '=' || rest[n + 1] != '"') return false;
    std::string name(rest.substr(0, n));
    rest.remove_prefix(n + 2);
    std::string value;
    for (;;) {
      if (rest.empty()) return false;
      char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\') {
        if (rest.empty()) return false;
        const char e = rest.front();
        rest.remove_prefix(1);
        c = e == 'n' ? '\n' : e;
        if (e != 'n' && e != '\\' && e != '"') return false;
      }
      value += c;
    }
    out[std::move(name)] = std::move(value);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
}

}  // namespace

Expected<std::vector<Sample>> parse_text(std::string_view text, const ScrapeLimits& limits) {
  if (text.size() > limits.max_bytes) return fail("metrics text is larger than " + std::to_string(limits.max_bytes) + " bytes");
  std::vector<Sample> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() > limits.max_line) return unexpected(line_error(line_no, "longer than " + std::to_string(limits.max_line) + " bytes").error());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Sample s;
    std::size_t n = 0;
    while (n < line.size() && name_char(line[n], n == 0)) ++n;
    if (n == 0) return unexpected(line_error(line_no, "no metric name").error());
    s.name = std::string(line.substr(0, n));
    std::string_view rest = line.substr(n);
    if (!rest.empty() && rest.front() == '{' && !parse_labels(rest, s.labels)) {
      return unexpected(line_error(line_no, "malformed labels").error());
    }
    if (rest.empty() || rest.front() != ' ') return unexpected(line_error(line_no, "no value").error());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto sp = rest.find(' ');  // an optional timestamp follows
    auto v = parse_value(rest.substr(0, sp));
    if (!v) return unexpected(line_error(line_no, "value is not a number").error());
    s.value = *v;
    if (out.size() >= limits.max_samples) return fail("metrics text has more than " + std::to_string(limits.max_samples) + " samples");
    out.push_back(std::move(s));
  }
  return out;
}

Expected<std::vector<Sample>> scrape(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
                                     const ScrapeLimits& limits, const std::string& path) {
  if (path.empty() || path.front() != '/' || path.find_first_of(" \r\n") != std::string::npos) {
    return fail("scrape: bad path '" + path + "'");
  }
  const std::string where = "http://" + host + ":" + std::to_string(port) + path;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) return fail(where + ": not an IPv4 address");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(where + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    return fail(where + ": " + std::strerror(errno) + " (is it running, with [metrics] port set?)");
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nAccept: text/plain\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return fail(where + ": cannot send the request");
  }
  std::string response;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) return fail(where + ": " + (errno == EAGAIN ? std::string("no answer in time") : std::strerror(errno)));
    response.append(buf, static_cast<std::size_t>(n));
    if (response.size() > limits.max_bytes + 16384) return fail(where + ": answer too large");
  }
  const auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || (response.compare(0, 9, "HTTP/1.1 ") != 0 && response.compare(0, 9, "HTTP/1.0 ") != 0)) {
    return fail(where + ": not an HTTP answer");
  }
  if (response.compare(9, 3, "200") != 0) return fail(where + ": " + response.substr(9, response.find('\r') - 9));
  auto parsed = parse_text(std::string_view(response).substr(head_end + 4), limits);
  if (!parsed) return fail(where, parsed.error());
  return parsed;
}

double value_of(const std::vector<Sample>& samples, std::string_view name, const std::map<std::string, std::string>& labels) {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return 0;
}

double sum_of(const std::vector<Sample>& samples, std::string_view name) {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name == name) total += s.value;
  }
  return total;
}

bool has(const std::vector<Sample>& samples, std::string_view name) {
  for (const auto& s : samples) {
    if (s.name == name) return true;
  }
  return false;
}

}  // namespace armored::metrics
