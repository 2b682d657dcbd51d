#include "config/http_listener.h"

#include <arpa/inet.h>

#include "config/toml_reader.h"

namespace armored::config {

namespace {
bool is_loopback(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return address == "::1";
}
}  // namespace

std::string HttpListener::endpoint() const {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

Status read_http_listener(const TomlDocument& doc, std::string_view section, HttpListener& out_,
                          const std::function<Status(TomlSection&)>& more) {
  auto s = doc.section(section);
  HttpListener l;
  std::int64_t port = -1;
  ARMORED_TRY(s.get_optional("port", port, 0, 65535));
  ARMORED_TRY(s.get_optional_ip_address("address", l.address));
  ARMORED_TRY(s.get_optional("allow_remote", l.allow_remote));
  if (more) ARMORED_TRY(more(s));
  ARMORED_TRY(s.reject_unknown_keys());
  if (port < 0) {
    if (s.has("address") || s.has("allow_remote")) {
      return fail(doc.source() + ": [" + std::string(section) + "] needs a port to listen on (0 picks a free one)");
    }
    out_ = l;  // absent: off
    return {};
  }
  if (!is_loopback(l.address) && !l.allow_remote) {
    return fail(doc.source() + ": [" + std::string(section) + "] address " + l.address +
                " is not a loopback address; it would show the fleet's health to the network. Set"
                " allow_remote = true to mean it, or keep 127.0.0.1 and reach it through a tunnel");
  }
  l.enabled = true;
  l.port = static_cast<std::uint16_t>(port);
  out_ = l;
  return {};
}

}  // namespace armored::config
