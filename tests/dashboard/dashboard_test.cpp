// The dashboard's request handler: what loads without the token, what needs
// it, how refused tokens are throttled and audited, how parameters are
// checked, and how the rate charts are computed.
#include "dashboard/dashboard.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"

namespace armored::dashboard {
namespace {

using namespace std::chrono_literals;

// The handler's data, counted: the cloud's real Source is exercised by the
// process-level dashboard test.
class CountingSource : public Source {
 public:
  nlohmann::json overview() override { return {{"node", {{"backend", "sqlite"}}}}; }
  Expected<nlohmann::json> devices(const DevicePageRequest& r) override {
    last_devices = r;
    return nlohmann::json{{"total", 0}, {"devices", nlohmann::json::array()}};
  }
  Expected<nlohmann::json> gaps(std::size_t limit) override {
    last_limit = limit;
    if (fail_store) return fail("database is locked");
    return nlohmann::json{{"gaps", nlohmann::json::array()}};
  }
  Expected<nlohmann::json> events(std::size_t limit) override {
    last_limit = limit;
    return nlohmann::json{{"events", nlohmann::json::array()}};
  }
  Expected<nlohmann::json> commands(std::size_t limit) override {
    last_limit = limit;
    return nlohmann::json{{"commands", nlohmann::json::array()}};
  }
  std::map<std::string, double> rate_counters() override { return counters; }
  void record_auth_failure(std::string_view peer, std::string_view why) override {
    failures.emplace_back(std::string(peer), std::string(why));
  }

  DevicePageRequest last_devices;
  std::size_t last_limit = 0;
  bool fail_store = false;
  std::map<std::string, double> counters;
  std::vector<std::pair<std::string, std::string>> failures;
};

const std::string kToken(64, 'a');

http::Request get(const std::string& target, const std::string& token = kToken) {
  std::string raw = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) raw += "Authorization: Bearer " + token + "\r\n";
  auto p = http::parse_request(raw + "\r\n");
  EXPECT_EQ(p.kind, http::Parsed::Kind::kRequest) << target;
  return p.request;
}

struct DashboardTest : ::testing::Test {
  CountingSource source;
  ManualClock clock;
  Dashboard dash{source, Options{kToken}};
  http::Response call(const std::string& target, const std::string& token = kToken) {
    return dash.handle(get(target, token), "127.0.0.1:5555", clock.now());
  }
};

TEST_F(DashboardTest, StaticFilesLoadWithoutTheTokenAndHoldNoData) {
  auto index = call("/", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<script src=\"/app.js\"></script>"), std::string::npos);
  auto app = call("/app.js", "");
  EXPECT_EQ(app.status, 200);
  EXPECT_EQ(app.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(app.body.find("innerHTML"), std::string::npos) << "values are written as text, never as HTML";
  auto uplot = call("/vendor/uplot/uPlot.iife.min.js", "");
  EXPECT_EQ(uplot.status, 200);
  EXPECT_GT(uplot.body.size(), 40000u);
  EXPECT_EQ(call("/vendor/uplot/LICENSE", "").status, 404) << "licences are for the repository, not served";
  EXPECT_EQ(call("/nothing.js", "").status, 404);
  EXPECT_TRUE(source.failures.empty());
}

TEST_F(DashboardTest, EveryApiViewNeedsTheTokenAndARefusalIsAudited) {
  for (const char* view : {"/api/overview", "/api/devices", "/api/gaps", "/api/events", "/api/commands", "/api/series"}) {
    auto none = call(view, "");
    EXPECT_EQ(none.status, 401) << view;
    bool challenged = false;
    for (const auto& [k, v] : none.headers) challenged |= k == "WWW-Authenticate" && v == "Bearer realm=\"armored\"";
    EXPECT_TRUE(challenged) << view;
    EXPECT_EQ(call(view, std::string(64, 'b')).status, 401) << view;
    EXPECT_EQ(call(view, kToken.substr(1)).status, 401) << view;
    EXPECT_EQ(call(view).status, 200) << view;
  }
  ASSERT_EQ(source.failures.size(), 18u);
  EXPECT_EQ(source.failures[0], std::make_pair(std::string("127.0.0.1:5555"),
                                               std::string("dashboard request without a token")));
  EXPECT_EQ(source.failures[1].second, "dashboard token refused");
  for (const auto& [peer, why] : source.failures) EXPECT_EQ(why.find(kToken), std::string::npos);
  EXPECT_EQ(dash.counters().unauthorized, 18u);
}

TEST_F(DashboardTest, RefusedTokensAreThrottledForAMinute) {
  for (int i = 0; i < 20; ++i) EXPECT_EQ(call("/api/overview", "wrong").status, 401);
  auto held = call("/api/overview");
  EXPECT_EQ(held.status, 429) << "even the right token waits: guessing gains nothing";
  clock.advance(59s);
  EXPECT_EQ(call("/api/overview").status, 429);
  clock.advance(2s);
  EXPECT_EQ(call("/api/overview").status, 200);
  EXPECT_EQ(dash.counters().throttled, 2u);
}

TEST_F(DashboardTest, DevicePagesAreCheckedAndBounded) {
  EXPECT_EQ(call("/api/devices?q=ward%207&page=3&per_page=100&inactive_s=3600").status, 200);
  EXPECT_EQ(source.last_devices.search, "ward 7");
  EXPECT_EQ(source.last_devices.page, 3u);
  EXPECT_EQ(source.last_devices.per_page, 100u);
  EXPECT_EQ(source.last_devices.inactive_s, 3600);
  for (const char* bad : {"/api/devices?per_page=201", "/api/devices?page=0", "/api/devices?page=abc",
                          "/api/devices?inactive_s=-1", "/api/devices?page=1e3", "/api/devices?page=99999999999999999999"}) {
    EXPECT_EQ(call(bad).status, 400) << bad;
  }
  EXPECT_EQ(call("/api/devices?q=" + std::string(300, 'x')).status, 200);
  EXPECT_EQ(source.last_devices.search.size(), 128u) << "a search is cut, not refused";
}

TEST_F(DashboardTest, RowLimitsAreCheckedAndStoreFailuresAreNamed) {
  EXPECT_EQ(call("/api/gaps").status, 200);
  EXPECT_EQ(source.last_limit, 100u);
  EXPECT_EQ(call("/api/events?limit=1000").status, 200);
  EXPECT_EQ(source.last_limit, 1000u);
  EXPECT_EQ(call("/api/commands?limit=1001").status, 400);
  source.fail_store = true;
  auto r = call("/api/gaps");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(nlohmann::json::parse(r.body).at("error"), "database is locked");
  EXPECT_EQ(call("/api/nothing").status, 404);
}

TEST_F(DashboardTest, RatesArePerSecondBetweenSamplesAndARestartIsAGap) {
  source.counters = {{"readings_stored", 100}};
  dash.sample(clock.now());
  clock.advance(2s);
  source.counters = {{"readings_stored", 300}, {"rejected", 5}};
  dash.sample(clock.now());
  clock.advance(1s);
  source.counters = {{"readings_stored", 50}, {"rejected", 6}};  // the cloud restarted
  dash.sample(clock.now());
  auto j = nlohmann::json::parse(call("/api/series").body);
  ASSERT_EQ(j.at("t").size(), 2u);
  EXPECT_EQ(j["rates"]["readings_stored"], nlohmann::json::parse("[100.0, null]"));
  EXPECT_EQ(j["rates"]["rejected"], nlohmann::json::parse("[null, 1.0]"));
}

TEST(DashboardToken, CreatedOwnerOnlyThenReadBackAndCheckedAfter) {
  armored::testing::TempDir dir;
  const auto path = dir / "dashboard.token";
  auto made = load_or_create_token(path);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->size(), 64u);
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_or_create_token(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *made);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto exposed = load_or_create_token(path);
  ASSERT_FALSE(exposed);
  EXPECT_NE(exposed.error().message.find("dashboard token"), std::string::npos) << exposed.error().message;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  std::ofstream(path) << "password123\n";
  auto junk = load_or_create_token(path);
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("64 hex digits"), std::string::npos);
}

TEST(DashboardToken, ComparisonNeedsTheWholeToken) {
  EXPECT_TRUE(token_matches(kToken, kToken));
  EXPECT_FALSE(token_matches(kToken + "a", kToken));
  EXPECT_FALSE(token_matches("", ""));
  EXPECT_FALSE(token_matches(std::string(63, 'a') + "b", kToken));
}

}  // namespace
}  // namespace armored::dashboard
