#pragma once
// Prometheus metrics for `armored cloud` and `armored gateway`
// (docs/operations.md, "Metrics").
//
// Counters live where they are counted (ingest, writer, spool, ...) as they
// always did; nothing on a hot path touches this component. At each scrape
// the Endpoint calls its owner's Collect, which copies those counters into
// families (a snapshot), and appends the live histograms of a Registry. So
// a metric costs nothing until someone scrapes it, and a scrape sees one
// consistent snapshot rather than counters read at different moments.
//
// Naming follows the Prometheus conventions: armored_<component>_<what>_<unit>,
// counters end in _total, durations are in seconds, sizes in bytes.
// No metric carries a device id or a reading's value: per-device series
// would grow with the fleet, and readings are health data.

#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace armored::metrics {

using Families = std::vector<prometheus::MetricFamily>;
using Labels = std::map<std::string, std::string>;

// Appends one sample to `out`, creating its family (with `help`) the first
// time a name is seen; several calls with one name and different labels
// make one family.
void add_counter(Families& out, const std::string& name, const std::string& help, double value,
                 const Labels& labels = {});
void add_gauge(Families& out, const std::string& name, const std::string& help, double value,
               const Labels& labels = {});

// This process's resources, from /proc/self (0 where unreadable).
struct ProcessSample {
  double resident_bytes = 0;
  double cpu_seconds = 0;         // user + system
  double start_time_seconds = 0;  // unix time
  double open_fds = 0;
};
ProcessSample read_process();

// process_resident_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_start_time_seconds and process_max_fds, read
// from /proc/self as the official clients do (so the usual dashboards work).
void add_process_families(Families& out);

// Buckets for latencies from a millisecond to two minutes, in seconds.
prometheus::Histogram::BucketBoundaries latency_buckets();

// The text exposition of `families` (what /metrics serves).
std::string to_text(const Families& families);

class Endpoint {
 public:
  // Runs on the listener's thread at each scrape: must be thread-safe.
  using Collect = std::function<Families()>;

  // Listens on `address` ("127.0.0.1:9464"; port 0 picks one) and serves
  // GET /metrics with Collect's families followed by `live`'s (may be null).
  static Expected<std::unique_ptr<Endpoint>> start(const std::string& address, Collect collect,
                                                   std::shared_ptr<prometheus::Registry> live);
  ~Endpoint();
  std::uint16_t port() const;
  std::uint64_t scrapes() const;

  struct Impl;

 private:
  explicit Endpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::metrics
