#pragma once
// The fleet dashboard (docs/operations.md, "Dashboard"): a read-only web
// view served by `armored cloud` over HTTPS with the cloud's certificate.
//
// Access: 127.0.0.1 by default, and every /api request carries the bearer
// token from an owner-only file next to the database. A token rather than
// an operator client certificate, because browsers handle client
// certificates badly (kiosk screens, headless checks, no way to log out),
// and whoever can read the token file can read the database anyway. The
// static page, script and styles hold no data and load without it.
//
// Never readings' values: the views show counts, times, identities, gaps,
// outcomes and reasons. Readings are health data; the database has them.
//
// Sans-I/O: Dashboard turns a parsed request into a response; the listener
// (server.h) owns sockets and TLS. One thread uses a Dashboard.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "http/http.h"

namespace armored::dashboard {

// One page of the devices view, from the query string.
struct DevicePageRequest {
  std::string search;         // ?q=: identities containing this
  std::int64_t inactive_s = 0;  // ?inactive_s=: only devices not seen for this long (0: all)
  std::size_t page = 1;       // ?page=, from 1
  std::size_t per_page = 50;  // ?per_page=, 1..200
};

// What the views show, supplied by the cloud. Called on the dashboard's
// thread: implementations take their own snapshot of live state and use
// their own database connection.
class Source {
 public:
  virtual ~Source() = default;
  // Node health, connections, handshakes, rejections, certificates: small.
  virtual nlohmann::json overview() = 0;
  virtual Expected<nlohmann::json> devices(const DevicePageRequest& request) = 0;
  virtual Expected<nlohmann::json> gaps(std::size_t limit) = 0;
  virtual Expected<nlohmann::json> events(std::size_t limit) = 0;
  virtual Expected<nlohmann::json> commands(std::size_t limit) = 0;
  // Cumulative counters the rate charts are drawn from ("readings_stored",
  // "rejected", "messages", "handshakes", "auth_failures" ...).
  virtual std::map<std::string, double> rate_counters() = 0;
  // A refused token, for the audit trail (never the token itself).
  virtual void record_auth_failure(std::string_view peer, std::string_view why) = 0;
};

struct Options {
  std::string token;  // 64 hex digits, from load_or_create_token
  std::size_t history_samples = 600;  // one per sample() call: ten minutes at 1 s
  // Refused tokens in a minute before every /api request is answered 429
  // until the minute has passed: a token cannot be guessed at any speed.
  std::size_t max_auth_failures_per_minute = 20;
  std::size_t max_rows = 1000;  // ?limit= of gaps, events and commands
};

struct DashboardCounters {
  std::uint64_t requests = 0, api_requests = 0, unauthorized = 0, throttled = 0, not_found = 0, errors = 0;
};

class Dashboard {
 public:
  Dashboard(Source& source, Options options);

  // `peer` is the client's address, for the audit trail.
  http::Response handle(const http::Request& request, std::string_view peer, Clock::TimePoint now);
  // Records the rate counters once; the listener calls it every second.
  void sample(Clock::TimePoint now);
  const DashboardCounters& counters() const { return counters_; }

 private:
  http::Response api(const http::Request& request);
  http::Response series() const;
  bool throttled(Clock::TimePoint now);

  Source& source_;
  Options options_;
  DashboardCounters counters_;
  struct Sample {
    std::int64_t at_ms;
    std::map<std::string, double> values;
  };
  std::deque<Sample> history_;
  std::deque<Clock::TimePoint> auth_failures_;  // within the last minute
};

// The token in `path`, created (0600, 32 random bytes as hex) if absent.
// An existing file must be owner-only and hold exactly one token.
Expected<std::string> load_or_create_token(const std::filesystem::path& path);

// Whether `given` equals `token`, in time that does not depend on where
// they differ.
bool token_matches(std::string_view given, std::string_view token);

}  // namespace armored::dashboard
