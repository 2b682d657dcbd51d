// Audit aggregation: a flood from one source becomes a few rows and one
// summary per interval; other sources keep their own rows; memory and rows
// per interval stay bounded whatever the number of sources.

#include <gtest/gtest.h>

#include "cloud/audit_limiter.h"

namespace armored::cloud {
namespace {
using namespace std::chrono_literals;

store::SecurityEvent failed(std::string reason, std::string detail = "d") {
  return {0, store::EventKind::kFailedHandshake, std::move(reason), "", std::move(detail)};
}

AuditLimits limits() {
  AuditLimits l;
  l.interval = 10000ms;
  l.rows_per_key = 3;
  l.max_keys = 8;
  l.max_rows_per_interval = 20;
  return l;
}

TEST(AuditLimiter, AFloodFromOneSourceBecomesAFewRowsAndOneSummary) {
  AuditLimiter a(limits(), 0);
  int written = 0;
  for (int i = 0; i < 10000; ++i) written += a.admit(failed("protocol_error", "n" + std::to_string(i)), "127.0.0.2");
  EXPECT_EQ(written, 3);
  // Another source is not drowned by the first.
  EXPECT_TRUE(a.admit(failed("protocol_error"), "127.0.0.1"));
  auto rows = a.flush(10000);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reason, "protocol_error");
  EXPECT_EQ(rows[0].peer, "127.0.0.2");
  EXPECT_NE(rows[0].detail.find("+9997 more"), std::string::npos) << rows[0].detail;
  EXPECT_NE(rows[0].detail.find("n9999"), std::string::npos) << rows[0].detail;
  EXPECT_EQ(a.next_flush_ms(), 20000);
  EXPECT_TRUE(a.admit(failed("protocol_error"), "127.0.0.2"));  // a new interval
}

TEST(AuditLimiter, ManySourcesStayWithinKeysAndRows) {
  AuditLimiter a(limits(), 0);
  int written = 0;
  for (int i = 0; i < 5000; ++i) written += a.admit(failed("unknown_ca"), "10.0." + std::to_string(i));
  EXPECT_LE(written, 20);
  EXPECT_LE(a.tracked_keys(), 8u);
  auto rows = a.flush(10000);
  EXPECT_LE(rows.size(), 11u);  // summaries capped at half the rows, plus one overflow row
  std::uint64_t counted = 0;
  for (const auto& r : rows) {
    auto pos = r.detail.find('+');
    if (pos == 0) counted += std::stoull(r.detail.substr(1));
    else counted += std::stoull(r.detail);
  }
  EXPECT_EQ(counted + static_cast<std::uint64_t>(written), 5000u) << "every event is counted somewhere";
  EXPECT_EQ(a.stats().events, 5000u);
}

TEST(AuditLimiter, NothingSuppressedMeansNoSummary) {
  AuditLimiter a(limits(), 0);
  EXPECT_TRUE(a.admit(failed("revoked"), "gw1"));
  EXPECT_TRUE(a.flush(10000).empty());
}

}  // namespace
}  // namespace armored::cloud
