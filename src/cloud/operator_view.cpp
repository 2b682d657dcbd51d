#include "cloud/internal/operator_view.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "dashboard/server.h"
#include "metrics/metrics.h"

namespace armored::cloud {

namespace {
// Gap totals scan every stored sequence: at most once a minute, whatever
// the scrape interval.
constexpr std::chrono::seconds kGapRefresh{60};
// Certificate and CRL files change rarely; read them again this often.
constexpr std::chrono::seconds kFileRefresh{30};

double seconds_between(Clock::TimePoint from, Clock::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

struct OperatorView::Impl {
  CloudConfig config;  // the dashboard source keeps a reference
  OperatorViewFeeds feeds;
  Clock& clock;
  std::shared_ptr<prometheus::Registry> live;
  std::shared_ptr<CloudHistograms> histograms;

  // What the metrics thread adds to each snapshot, refreshed on its own
  // schedule (the scrape thread is the only one that touches these).
  std::mutex slow_mu;
  std::unique_ptr<store::Store> gap_store;
  Clock::Duration gaps_at{};
  bool gaps_known = false;
  std::int64_t gap_readings = -1, gap_series = -1;
  Clock::Duration files_at{};
  std::optional<CertificateFacts> files;  // one cache for the metrics and the dashboard

  std::unique_ptr<metrics::Endpoint> endpoint;
  std::unique_ptr<CloudDashboardSource> source;
  std::unique_ptr<dashboard::Server> server;
  std::string token_file;

  Impl(const CloudConfig& c, OperatorViewFeeds f, Clock& clk) : config(c), feeds(std::move(f)), clock(clk) {}

  void complete(CloudStatus& s);
  CertificateFacts certificate_facts();
  const CertificateFacts& refresh_files();  // under slow_mu
  metrics::Families collect();
  Status start_metrics();
  Status start_dashboard();
};

const CertificateFacts& OperatorView::Impl::refresh_files() {
  const auto mono = clock.monotonic();
  if (!files || mono - files_at >= kFileRefresh) {
    files_at = mono;
    files = read_certificate_facts(config);
  }
  return *files;
}

CertificateFacts OperatorView::Impl::certificate_facts() {
  std::lock_guard lk(slow_mu);
  return refresh_files();
}

// The parts of the status that come from files and the store, not from the
// network thread's counters.
void OperatorView::Impl::complete(CloudStatus& s) {
  std::lock_guard lk(slow_mu);
  const auto mono = clock.monotonic();
  const CertificateFacts& f = refresh_files();
  const auto now = clock.now();
  if (f.cloud) s.certificate_expiry_seconds = seconds_between(now, f.cloud->not_after);
  s.crl_age_seconds = f.crl && *f.crl ? seconds_between((*f.crl)->last_update, now) : -1;
  if (gap_store && (!gaps_known || mono - gaps_at >= kGapRefresh)) {
    gaps_known = true;
    gaps_at = mono;
    store::Store::GapTotals totals;
    if (auto g = gap_store->sequence_gaps(0, &totals)) {
      gap_readings = static_cast<std::int64_t>(totals.missing);
      gap_series = static_cast<std::int64_t>(totals.series);
    } else {
      spdlog::warn("cloud: metrics: cannot count sequence gaps: {}", g.error().message);
      (void)gap_store->reconnect();
    }
  }
  s.gap_readings = gap_readings;
  s.gap_series = gap_series;
}

metrics::Families OperatorView::Impl::collect() {
  CloudStatus s = feeds.live.status();
  complete(s);
  metrics::Families out;
  add_cloud_families(out, s);
  metrics::add_process_families(out);
  if (source) {
    metrics::add_counter(out, "armored_cloud_dashboard_auth_failures_total",
                         "Dashboard requests refused for a missing or wrong token.",
                         static_cast<double>(source->auth_failures()));
  }
  return out;
}

Status OperatorView::Impl::start_metrics() {
  auto s = feeds.open_store();
  if (!s) return fail("metrics", s.error());
  gap_store = std::move(*s);
  auto e = metrics::Endpoint::start(config.metrics.endpoint(), [this] { return collect(); }, live);
  if (!e) return unexpected(e.error());
  endpoint = std::move(*e);
  return {};
}

Status OperatorView::Impl::start_dashboard() {
  auto token = dashboard::load_or_create_token(config.dashboard_token_file);
  if (!token) return unexpected(token.error());
  auto s = feeds.open_store();
  if (!s) return fail("dashboard", s.error());
  DashboardFeeds df = feeds.live;
  // Wrapped so the overview shows what the metrics show (certificates,
  // gaps refreshed on the same schedule).
  df.status = [this] {
    CloudStatus st = feeds.live.status();
    complete(st);
    return st;
  };
  df.certificates = [this] { return certificate_facts(); };
  df.seal_to_stored = [this] {
    std::vector<std::pair<double, double>> out;
    const auto m = histograms->seal_to_stored_seconds.Collect().histogram;
    for (const auto& b : m.bucket) out.emplace_back(b.upper_bound, static_cast<double>(b.cumulative_count));
    return out;
  };
  source = std::make_unique<CloudDashboardSource>(config, std::move(*s), std::move(df), clock);
  dashboard::ServerOptions o;
  o.listen = config.dashboard;
  o.dashboard.token = std::move(*token);
  // The cloud's own certificate. Browsers have no fleet certificate, so
  // none is asked for (docs/operations.md, "Dashboard"): the token is the
  // operator's credential, and the listener is loopback unless allowed.
  o.tls.role = tls::Role::kServer;
  o.tls.ca_file = config.tls.ca_file;
  o.tls.cert_chain = config.tls.cert_chain;
  o.tls.key_file = config.tls.key_file;
  o.tls.intermediates = config.tls.intermediates;
  o.tls.request_client_certificate = false;
  o.tls.max_early_data = 0;
  auto srv = dashboard::Server::start(std::move(o), *source, clock);
  if (!srv) return unexpected(srv.error());
  server = std::move(*srv);
  token_file = config.dashboard_token_file.string();
  return {};
}

Expected<std::unique_ptr<OperatorView>> OperatorView::start(const CloudConfig& config, OperatorViewFeeds feeds,
                                                            Clock& clock) {
  auto impl = std::make_unique<Impl>(config, std::move(feeds), clock);
  if (config.metrics.enabled || config.dashboard.enabled) {
    impl->live = std::make_shared<prometheus::Registry>();
    impl->histograms = std::shared_ptr<CloudHistograms>(new CloudHistograms(*impl->live),
                                                        [registry = impl->live](CloudHistograms* h) { delete h; });
  }
  if (config.metrics.enabled) ARMORED_TRY(impl->start_metrics());
  if (config.dashboard.enabled) ARMORED_TRY(impl->start_dashboard());
  return std::unique_ptr<OperatorView>(new OperatorView(std::move(impl)));
}

OperatorView::OperatorView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// The listeners' threads stop before the source and feeds they call go.
OperatorView::~OperatorView() {
  if (impl_) {
    impl_->server.reset();
    impl_->endpoint.reset();
  }
}

std::shared_ptr<CloudHistograms> OperatorView::histograms() { return impl_->histograms; }

std::optional<std::uint16_t> OperatorView::metrics_port() const {
  if (!impl_->endpoint) return std::nullopt;
  return impl_->endpoint->port();
}

std::optional<std::uint16_t> OperatorView::dashboard_port() const {
  if (!impl_->server) return std::nullopt;
  return impl_->server->port();
}

std::vector<std::string> OperatorView::describe() const {
  std::vector<std::string> out;
  auto host = [](const config::HttpListener& l) {
    return l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address;
  };
  if (auto p = metrics_port()) {
    out.push_back("metrics on http://" + host(impl_->config.metrics) + ":" + std::to_string(*p) + "/metrics");
  }
  if (auto p = dashboard_port()) {
    out.push_back("dashboard on https://" + host(impl_->config.dashboard) + ":" + std::to_string(*p) +
                  "/ (open it as /#token=<the token in " + impl_->token_file + ">)");
  }
  return out;
}

}  // namespace armored::cloud
