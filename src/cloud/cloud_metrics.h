#pragma once
// The cloud's metrics (docs/operations.md, "Metrics"): its status snapshot
// as Prometheus families, and the histograms the storage thread observes.

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

#include "cloud/server.h"
#include "metrics/metrics.h"

namespace armored::cloud {

// Observed live by the storage thread, one observation per commit (or per
// stored reading for the seal-to-stored latency); thread-safe.
struct CloudHistograms {
  explicit CloudHistograms(prometheus::Registry& registry);
  prometheus::Histogram& commit_seconds;       // one storage commit, retries not included
  prometheus::Histogram& commit_readings;      // readings in one commit
  prometheus::Histogram& seal_to_stored_seconds;  // the reading's own time to its commit
};

// Appends the armored_cloud_* families for `s` to `out`.
void add_cloud_families(metrics::Families& out, const CloudStatus& s);

}  // namespace armored::cloud
