// The cloud's dashboard Source over a real SQLite store and a real PKI's
// files: each view's JSON, and the seal-to-stored p50 between two calls.
#include "cloud/internal/dashboard_source.h"

#include <gtest/gtest.h>

#include "pki/pki_test_util.h"
#include "store/store.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

namespace pt = armored::pki::test;

struct DashboardSourceTest : ::testing::Test {
  void SetUp() override {
    auto pki = pt::make_pki(dir / "pki", pki::validity_for_days(pt::now(), 365));
    auto issued = pki.issue(pt::request(pki::Role::cloud, "cloud", pki::validity_for_days(pt::now(), 90)), pt::now());
    ASSERT_TRUE(issued) << issued.error().message;
    ASSERT_TRUE(pki.issue(pt::request(pki::Role::device, "d1", pki::validity_for_days(pt::now(), 30)), pt::now()));
    ASSERT_TRUE(pki.revoke("d1", pt::now()));
    config.backend = "sqlite";
    config.tls.cert_chain = issued->cert;
    config.tls.ca_file = pki::Authority::root_cert_path(dir / "pki");
    config.tls.crl_file = pki::Authority::crl_path(dir / "pki");
    auto s = store::open_sqlite(dir / "cloud.db");
    ASSERT_TRUE(s) << s.error().message;
    for (int i = 0; i < 7; ++i) {
      const std::string id = "wearable-" + std::to_string(i);
      ASSERT_TRUE((*s)->register_devices(std::vector<store::DeviceEnrollment>{{bytes_of(id), std::string(id)}}, 1000));
    }
    // wearable-1, epoch 1: 0 1 . . 4 5 . . . 9 stored, so two holes, five readings missing.
    std::vector<store::ReadingRow> rows;
    for (std::uint64_t seq : {0, 1, 4, 5, 9}) {
      store::ReadingRow r;
      r.device = "wearable-1";
      r.key_id = bytes_of("wearable-1");
      r.epoch = 1;
      r.seq = seq;
      r.timestamp = 1000 + static_cast<std::int64_t>(seq);
      r.received_at_ms = 1'000'000;
      rows.push_back(r);
    }
    ASSERT_TRUE((*s)->store_batch(rows));
    DashboardFeeds feeds;
    feeds.status = [this] { return status; };
    feeds.connections = [this](std::size_t limit) {
      asked_limit = limit;
      ConnectionPage page;
      page.total = open_connections.size();
      for (std::size_t i = 0; i < std::min(limit, open_connections.size()); ++i) page.rows.push_back(open_connections[i]);
      return page;
    };
    feeds.audit = [this](store::SecurityEvent ev) { audited.push_back(std::move(ev)); };
    feeds.seal_to_stored = [this] { return buckets; };
    source = std::make_unique<CloudDashboardSource>(config, std::move(*s), feeds, clock);
  }

  armored::testing::TempDir dir;
  CloudConfig config;
  CloudStatus status;
  ManualClock clock;
  std::vector<store::SecurityEvent> audited;
  std::vector<ConnectionInfo> open_connections = {{"gw-1", "gateway", "127.0.0.1:4000", "resumed", 5000}};
  std::size_t asked_limit = 0;
  std::vector<std::pair<double, double>> buckets = {{0.1, 0}, {1, 0}, {10, 0}, {INFINITY, 0}};
  std::unique_ptr<CloudDashboardSource> source;
};

TEST_F(DashboardSourceTest, OverviewCarriesHealthConnectionsAndCertificates) {
  status.readings_stored = 1234;
  status.rejected_by_reason = {{"forged", 3}};
  status.handshakes_full = 2;
  auto o = source->overview();
  EXPECT_EQ(o["traffic"]["readings_stored"], 1234);
  EXPECT_EQ(o["rejections"][0]["reason"], "forged");
  EXPECT_EQ(o["handshakes"]["full"], 2);
  EXPECT_EQ(o["node"]["backend"], "sqlite");
  EXPECT_GT(o["node"]["rss_bytes"].get<double>(), 1e6);
  ASSERT_EQ(o["connections"].size(), 1u);
  EXPECT_EQ(o["connections"][0]["identity"], "gw-1");
  EXPECT_EQ(o["connections_total"], 1);
  EXPECT_NE(o["certificates"]["cloud"]["subject"].get<std::string>().find("cloud"), std::string::npos);
  const auto expires = o["certificates"]["cloud"]["not_after_ms"].get<std::int64_t>();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock().now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(expires - now_ms) / 86400000.0, 90.0, 1.0);
  EXPECT_EQ(o["certificates"]["crl"]["revoked"], 1);
  EXPECT_GT(o["certificates"]["crl"]["next_update_ms"].get<std::int64_t>(), now_ms);
}

// A fleet of direct devices: each refresh carries a bounded list and the
// totals, never every connection.
TEST_F(DashboardSourceTest, OverviewListsABoundedNumberOfConnectionsAndCountsTheRest) {
  open_connections.clear();
  for (int i = 0; i < 2000; ++i) {
    open_connections.push_back({"wearable-" + std::to_string(i), "device", "127.0.0.1:5000", "full", 1000 + i});
  }
  status.connections = 2001;
  status.connections_by_role = {{"device", 2000}, {"gateway", 1}};
  auto o = source->overview();
  EXPECT_EQ(asked_limit, CloudDashboardSource::kConnectionRows);
  EXPECT_EQ(o["connections"].size(), CloudDashboardSource::kConnectionRows);
  EXPECT_EQ(o["connections_total"], 2000);
  EXPECT_EQ(o["connections_by_role"]["device"], 2000);
  EXPECT_EQ(o["connections_by_role"]["gateway"], 1);
  EXPECT_LT(o.dump().size(), 200'000u);
}

// The operator's view hands the source its cached copy of the files.
TEST_F(DashboardSourceTest, CertificatesComeFromTheFeedWhenGiven) {
  DashboardFeeds feeds;
  feeds.status = [this] { return status; };
  feeds.connections = [](std::size_t) { return ConnectionPage{}; };
  int reads = 0;
  feeds.certificates = [&] {
    ++reads;
    return read_certificate_facts(config);
  };
  auto s = store::open_sqlite(dir / "cloud.db");
  ASSERT_TRUE(s);
  CloudDashboardSource cached(config, std::move(*s), feeds, clock);
  auto o = cached.overview();
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(o["certificates"]["crl"]["revoked"], 1);
  config.tls.crl_file = dir / "missing-crl.pem";
  EXPECT_TRUE(cached.overview()["certificates"]["crl"].contains("error"));
}

TEST_F(DashboardSourceTest, DevicePagesComeFromTheDatabase) {
  dashboard::DevicePageRequest r;
  r.per_page = 3;
  r.page = 3;
  auto page = source->devices(r);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ((*page)["total"], 7);
  ASSERT_EQ((*page)["devices"].size(), 1u);
  EXPECT_EQ((*page)["devices"][0]["identity"], "wearable-6");
  EXPECT_EQ((*page)["devices"][0]["last_seen_ms"], 0);
  r.page = 1;
  r.inactive_s = 60;  // none seen: all inactive
  EXPECT_EQ((*source->devices(r))["total"], 7);
}

TEST_F(DashboardSourceTest, RefusedTokensGoToTheAuditTrailWithoutTheToken) {
  source->record_auth_failure("127.0.0.1:5000", "dashboard token refused");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].kind, store::EventKind::kOperatorAuthFailed);
  EXPECT_EQ(audited[0].peer, "127.0.0.1:5000");
  EXPECT_EQ(source->overview()["dashboard_auth_failures"], 1);
  EXPECT_EQ(source->rate_counters().at("auth_failures"), 1.0);
}

TEST_F(DashboardSourceTest, IngestLagIsTheMedianSinceThePreviousLook) {
  EXPECT_TRUE(source->overview()["node"]["ingest_lag_p50_s"].is_null());
  buckets = {{0.1, 10}, {1, 90}, {10, 100}, {INFINITY, 100}};  // median in (0.1, 1]
  EXPECT_EQ(source->overview()["node"]["ingest_lag_p50_s"], 1.0);
  buckets = {{0.1, 10}, {1, 90}, {10, 300}, {INFINITY, 300}};  // the last 200 all in (1, 10]
  EXPECT_EQ(source->overview()["node"]["ingest_lag_p50_s"], 10.0);
  EXPECT_EQ(source->overview()["node"]["ingest_lag_p50_s"], 10.0) << "nothing new: the last figure stays";
}

TEST_F(DashboardSourceTest, GapsEventsAndCommandsViews) {
  auto g = source->gaps(10);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ((*g)["totals"]["missing"], 5);
  EXPECT_EQ((*g)["totals"]["gaps"], 2);
  EXPECT_EQ((*g)["totals"]["series"], 1);
  ASSERT_EQ((*g)["gaps"].size(), 2u);
  EXPECT_EQ((*g)["gaps"][0]["device"], "wearable-1");
  // In device, epoch and sequence order, as `armored report gaps` lists them.
  EXPECT_EQ((*g)["gaps"][0]["first"], 2);
  EXPECT_EQ((*g)["gaps"][0]["last"], 3);
  EXPECT_EQ((*g)["gaps"][0]["missing"], 2);
  EXPECT_EQ((*g)["gaps"][1]["first"], 6);
  EXPECT_EQ((*g)["gaps"][1]["missing"], 3);
  auto e = source->events(10);
  ASSERT_TRUE(e);
  EXPECT_TRUE((*e)["events"].empty());
  auto c = source->commands(10);
  ASSERT_TRUE(c);
  EXPECT_TRUE((*c)["commands"].empty());
}

}  // namespace
}  // namespace armored::cloud
