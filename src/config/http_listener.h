#pragma once
// An opt-in HTTP(S) listener section, shared by [metrics] (cloud and gateway)
// and [dashboard] (cloud):
//
//   [metrics]
//   port = 9464                # absent: no listener; 0: any free port
//   address = "127.0.0.1"      # the default; another address needs allow_remote
//   allow_remote = false
//
// Loopback by default: metrics and the dashboard show a fleet's health, and
// the people who need them from elsewhere reach them through their own
// proxy or tunnel. Binding a non-loopback address is a decision an operator
// writes down (allow_remote = true), not a default.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace armored::config {

class TomlDocument;
class TomlSection;

struct HttpListener {
  bool enabled = false;
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  bool allow_remote = false;
  std::string endpoint() const;  // "127.0.0.1:9464", "[::1]:9464"
};

// Reads `section` ("metrics", "dashboard") into `out_`, rejecting unknown
// keys; `more` reads the section's own further keys first.
Status read_http_listener(const TomlDocument& doc, std::string_view section, HttpListener& out_,
                          const std::function<Status(TomlSection&)>& more = {});

}  // namespace armored::config
