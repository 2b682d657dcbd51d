// Fleet -> gateway -> cloud on 127.0.0.1 with nothing going wrong: every
// reading the fleet sealed is stored once, and the audit trail is empty.

#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;

TEST_F(PipelineTest, EveryReadingIsStoredExactlyOnce) {
  make_pki(30);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  ASSERT_GT(gateway_udp_port_, 0);

  auto fleet = start_fleet(30, 60, 8, gateway_udp_port_);
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_EQ(f.dropped, 0);
  ASSERT_GT(f.readings, 30 * 8);  // two readings per second per device, minus start-up

  EXPECT_TRUE(wait_for_stored(f.readings));
  expect_exactly_once(f.readings);
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device) FROM readings"), 30);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");

  EXPECT_EQ(gateway->stop(), 0);
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.failed, 0);
  EXPECT_GE(h.full, 1);
}

}  // namespace
}  // namespace armored::pipeline_test
