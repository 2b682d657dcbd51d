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

// The fleet sealing through the device SDK's C library (the code firmware
// runs): the real gateway spools and the real cloud opens and stores every
// reading once, across a restart of the fleet (a new epoch per device).
TEST_F(PipelineTest, EveryReadingSealedByTheDeviceSdkIsStoredExactlyOnce) {
  make_pki(10);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  ASSERT_GT(gateway_udp_port_, 0);
  extra_fleet_args_ = {"--sealer", "device-sdk"};

  std::int64_t sealed = 0;
  for (const std::string tag : {"fleet", "fleet-restarted"}) {
    auto fleet = start_fleet(10, 60, 6, gateway_udp_port_, tag);
    auto f = finish_fleet(*fleet, tag);
    EXPECT_EQ(f.exit_code, 0) << armored::testing::slurp(dir() / (tag + ".err"));
    EXPECT_EQ(f.sealer, "device-sdk");
    EXPECT_EQ(f.unacknowledged, 0);
    EXPECT_EQ(f.dropped, 0);
    EXPECT_EQ(f.readings_acknowledged, f.readings);
    ASSERT_GT(f.readings, 10 * 6);  // two readings per second per device, minus start-up
    sealed += f.readings;
  }

  EXPECT_TRUE(wait_for_stored(sealed));
  expect_exactly_once(sealed);
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device) FROM readings"), 10);
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device || '/' || epoch) FROM readings"), 20);  // two epochs each
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");

  EXPECT_EQ(gateway->stop(), 0);
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.failed, 0);
}

}  // namespace
}  // namespace armored::pipeline_test
