#pragma once
// Reading metrics back: `armored status` asks a running cloud or gateway
// for the same /metrics page Prometheus scrapes, so the terminal shows what
// the alerts see. A parser of the text exposition format with limits, and a
// blocking GET on a loopback address.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace armored::metrics {

struct Sample {
  std::string name;                          // "armored_cloud_rejected_total"
  std::map<std::string, std::string> labels;  // {"reason": "forged"}
  double value = 0;
};

struct ScrapeLimits {
  std::size_t max_bytes = 4u << 20;
  std::size_t max_line = 4096;
  std::size_t max_samples = 100000;
};

// Parses the Prometheus text format (version 0.0.4): comments and blank
// lines are skipped, timestamps ignored. An error names the line.
Expected<std::vector<Sample>> parse_text(std::string_view text, const ScrapeLimits& limits = {});

// GET http://host:port/metrics (or `path`: Prometheus's own /federate
// speaks the same format), parsed. `host` is an IP address literal.
Expected<std::vector<Sample>> scrape(const std::string& host, std::uint16_t port,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                     const ScrapeLimits& limits = {}, const std::string& path = "/metrics");

// The value of `name` with exactly `labels` (0 if absent), and the sum over
// every sample of `name` whatever its labels.
double value_of(const std::vector<Sample>& samples, std::string_view name,
                const std::map<std::string, std::string>& labels = {});
double sum_of(const std::vector<Sample>& samples, std::string_view name);
bool has(const std::vector<Sample>& samples, std::string_view name);

}  // namespace armored::metrics
