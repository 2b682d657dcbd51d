// SIGTERM stops `armored cloud` and `armored gateway` promptly even with a
// long status interval: the status timer must not hold the event loop.

#include <csignal>
#include <thread>

#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;

// Seconds from SIGTERM to exit (negative: still running after 20 s).
double seconds_to_stop(armored::testing::Subprocess& p, int& exit_code) {
  const auto t0 = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  auto code = p.wait(20s);
  if (!code) return -1;
  exit_code = *code;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST_F(PipelineTest, SigtermStopsPromptlyWithLongStatusInterval) {
  status_interval_s_ = 30;
  make_pki(3);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  // Some traffic, so both hold open connections and timers when stopped.
  auto fleet = start_fleet(3, 600, 2, gateway_udp_port_);
  auto run = finish_fleet(*fleet);
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_TRUE(wait_for_stored(run.readings));
  std::this_thread::sleep_for(1s);  // both are now waiting inside a 30 s status interval

  int gw_code = -1, cloud_code = -1;
  const double gw_s = seconds_to_stop(*gateway, gw_code);
  const double cloud_s = seconds_to_stop(*cloud, cloud_code);
  std::cout << "[ figures  ] SIGTERM to exit with status.interval_s = 30: gateway " << gw_s << " s, cloud "
            << cloud_s << " s" << std::endl;
  EXPECT_GE(gw_s, 0);
  EXPECT_LT(gw_s, 3.0);
  EXPECT_EQ(gw_code, 0);
  EXPECT_GE(cloud_s, 0);
  EXPECT_LT(cloud_s, 3.0);
  EXPECT_EQ(cloud_code, 0);
  expect_exactly_once(run.readings);
}

}  // namespace
}  // namespace armored::pipeline_test
