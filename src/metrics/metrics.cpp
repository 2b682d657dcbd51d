#include "metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <exception>

namespace armored::metrics {

namespace {

prometheus::ClientMetric& add_sample(Families& out, const std::string& name, const std::string& help,
                                     prometheus::MetricType type, const Labels& labels) {
  auto it = std::find_if(out.begin(), out.end(), [&](const auto& f) { return f.name == name; });
  if (it == out.end()) {
    out.push_back(prometheus::MetricFamily{name, help, type, {}});
    it = out.end() - 1;
  }
  auto& m = it->metric.emplace_back();
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

// What the Exposer calls at each scrape: the owner's snapshot, then the
// live registry's histograms.
class Snapshot : public prometheus::Collectable {
 public:
  Snapshot(Endpoint::Collect collect, std::shared_ptr<prometheus::Registry> live)
      : collect_(std::move(collect)), live_(std::move(live)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    scrapes_.fetch_add(1, std::memory_order_relaxed);
    Families out = collect_ ? collect_() : Families{};
    if (live_) {
      auto more = live_->Collect();
      out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    return out;
  }
  std::uint64_t scrapes() const { return scrapes_.load(std::memory_order_relaxed); }

 private:
  Endpoint::Collect collect_;
  std::shared_ptr<prometheus::Registry> live_;
  mutable std::atomic<std::uint64_t> scrapes_{0};
};

}  // namespace

void add_counter(Families& out, const std::string& name, const std::string& help, double value,
                 const Labels& labels) {
  add_sample(out, name, help, prometheus::MetricType::Counter, labels).counter.value = value;
}

void add_gauge(Families& out, const std::string& name, const std::string& help, double value, const Labels& labels) {
  add_sample(out, name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

std::string to_text(const Families& families) { return prometheus::TextSerializer().Serialize(families); }

struct Endpoint::Impl {
  std::shared_ptr<Snapshot> snapshot;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::uint16_t port = 0;
};

Expected<std::unique_ptr<Endpoint>> Endpoint::start(const std::string& address, Collect collect,
                                                    std::shared_ptr<prometheus::Registry> live) {
  auto impl = std::make_unique<Impl>();
  impl->snapshot = std::make_shared<Snapshot>(std::move(collect), std::move(live));
  try {
    // One thread: scrapes are rare, and a second would only run a second
    // snapshot at once.
    impl->exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return fail("metrics: cannot listen on " + address + ": " + e.what());
  }
  impl->exposer->RegisterCollectable(impl->snapshot, "/metrics");
  auto ports = impl->exposer->GetListeningPorts();
  if (ports.empty()) return fail("metrics: listening on " + address + " but no port was bound");
  impl->port = static_cast<std::uint16_t>(ports.front());
  return std::unique_ptr<Endpoint>(new Endpoint(std::move(impl)));
}

Endpoint::Endpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Endpoint::~Endpoint() = default;
std::uint16_t Endpoint::port() const { return impl_->port; }
std::uint64_t Endpoint::scrapes() const { return impl_->snapshot->scrapes(); }

}  // namespace armored::metrics
