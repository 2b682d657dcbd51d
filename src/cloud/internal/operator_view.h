#pragma once
// The cloud's operator view (docs/operations.md): the Prometheus endpoint
// of [metrics] and the dashboard of [dashboard], each on a thread of its
// own so that a scrape or a page never delays ingest.
//
// Neither touches the network thread's data: the server hands in feeds
// that copy what is needed on that thread, and each opens its own database
// connection for what comes from the store (gap totals, device pages).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cloud/cloud_metrics.h"
#include "cloud/config.h"
#include "cloud/internal/dashboard_source.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace armored::cloud {

struct OperatorViewFeeds {
  DashboardFeeds live;  // status, connections, audit; seal_to_stored is filled in here
  std::function<Expected<std::unique_ptr<store::Store>>()> open_store;
};

class OperatorView {
 public:
  // Starts what the config enables; a view with both off holds nothing.
  static Expected<std::unique_ptr<OperatorView>> start(const CloudConfig& config, OperatorViewFeeds feeds,
                                                       Clock& clock);
  ~OperatorView();

  // Observed by the storage thread, which may outlive the view (it drains
  // after the listeners stop): shared, and keeping its registry alive.
  // Null when neither view is on.
  std::shared_ptr<CloudHistograms> histograms();
  std::optional<std::uint16_t> metrics_port() const;
  std::optional<std::uint16_t> dashboard_port() const;
  // Lines for the start-up banner: where each view is and how to get in.
  std::vector<std::string> describe() const;

  struct Impl;

 private:
  explicit OperatorView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::cloud
