// Reading metrics back (`armored status`): the text format parser on what
// prometheus-cpp writes and on malformed, oversized and truncated input,
// and a scrape of a live endpoint.
#include "metrics/scrape.h"

#include <gtest/gtest.h>

#include <cmath>

#include "metrics/metrics.h"

namespace armored::metrics {
namespace {

TEST(MetricsText, ReadsWhatTheEndpointWrites) {
  Families f;
  add_counter(f, "armored_test_total", "help", 42);
  add_counter(f, "armored_test_rejected_total", "h", 3, {{"reason", "bad \"tag\"\\n"}});
  add_gauge(f, "armored_test_up", "h", 1);
  auto parsed = parse_text(to_text(f));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(value_of(*parsed, "armored_test_total"), 42);
  EXPECT_EQ(value_of(*parsed, "armored_test_rejected_total", {{"reason", "bad \"tag\"\\n"}}), 3);
  EXPECT_EQ(sum_of(*parsed, "armored_test_rejected_total"), 3);
  EXPECT_TRUE(has(*parsed, "armored_test_up"));
  EXPECT_FALSE(has(*parsed, "armored_test_down"));
}

TEST(MetricsText, SpecialValuesTimestampsAndComments) {
  auto p = parse_text("# HELP x y\n# TYPE x gauge\nx +Inf\ny{a=\"1\",b=\"2\"} 2.5 1700000000000\n\nz NaN\r\n");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->size(), 3u);
  EXPECT_TRUE(std::isinf((*p)[0].value));
  EXPECT_EQ((*p)[1].labels.at("b"), "2");
  EXPECT_EQ((*p)[1].value, 2.5);
  EXPECT_TRUE(std::isnan((*p)[2].value));
}

TEST(MetricsText, MalformedLinesAreNamed) {
  for (const char* bad : {"x", "x{a=\"1\" 2", "x{a=1} 2", "x{=\"1\"} 2", "x twelve", "{a=\"1\"} 2", "x{a=\"\\q\"} 1",
                          "x{a=\"1"}) {
    auto p = parse_text(std::string("ok 1\n") + bad + "\n");
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.error().message.find("line 2"), std::string::npos) << p.error().message;
  }
}

TEST(MetricsText, LimitsAreKept) {
  ScrapeLimits l;
  l.max_bytes = 64;
  l.max_line = 16;
  l.max_samples = 2;
  EXPECT_FALSE(parse_text(std::string(65, '#'), l));
  EXPECT_FALSE(parse_text("a_very_long_metric_name 1\n", l));
  EXPECT_FALSE(parse_text("a 1\nb 2\nc 3\n", l));
  EXPECT_TRUE(parse_text("a 1\nb 2\n", l));
}

TEST(MetricsScrape, ReadsALiveEndpointAndNamesAMissingOne) {
  auto ep = Endpoint::start("127.0.0.1:0", [] {
    Families f;
    add_counter(f, "armored_test_total", "h", 7);
    return f;
  }, nullptr);
  ASSERT_TRUE(ep) << ep.error().message;
  auto s = scrape("127.0.0.1", (*ep)->port());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(value_of(*s, "armored_test_total"), 7);
  const auto port = (*ep)->port();
  ep->reset();
  auto gone = scrape("127.0.0.1", port, std::chrono::milliseconds(500));
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find("[metrics] port"), std::string::npos) << gone.error().message;
}

}  // namespace
}  // namespace armored::metrics
