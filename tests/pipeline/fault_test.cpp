// Fault tests: the gateway or the cloud killed with SIGKILL in the middle of
// the stream and restarted, and the cloud gone for 30 s. In each case every
// reading the fleet sealed is stored exactly once.

#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::slurp;

TEST_F(PipelineTest, GatewayKilledMidStreamRestartsFromItsSpool) {
  make_pki(30);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  auto fleet = start_fleet(30, 60, 12, gateway_udp_port_);
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the crash";
  gateway->signal(SIGKILL);
  ASSERT_TRUE(gateway->wait(5s).has_value());
  std::this_thread::sleep_for(1s);  // devices keep sending meanwhile and re-send
  gateway = start_gateway();       // same UDP port, spool and ticket directory

  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_TRUE(wait_for_stored(f.readings));
  std::this_thread::sleep_for(1s);  // anything re-sent late would show up as a duplicate
  expect_exactly_once(f.readings);
  expect_only_duplicates_audited();
  expect_fault_row("kill -9 gateway, restarted 1 s later", f, true);

  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_NE(slurp(dir() / "gateway2.out").find(", 0 still spooled"), std::string::npos)
      << slurp(dir() / "gateway2.out");
  auto h = stop_cloud(cloud);
  // The restarted gateway resumed its session with the ticket it saved.
  EXPECT_GE(h.resumed + h.zero_rtt, 1) << "full " << h.full;
  EXPECT_EQ(h.failed, 0);
}

TEST_F(PipelineTest, CloudKilledMidStreamRestartsWithoutLossOrDuplicates) {
  make_pki(30);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  auto fleet = start_fleet(30, 60, 12, gateway_udp_port_);
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the crash";
  cloud->signal(SIGKILL);
  ASSERT_TRUE(cloud->wait(5s).has_value());
  std::this_thread::sleep_for(1s);
  cloud = start_cloud();  // same config, database and E3 state file

  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_TRUE(wait_for_stored(f.readings));
  std::this_thread::sleep_for(1s);
  expect_exactly_once(f.readings);
  expect_only_duplicates_audited();
  expect_fault_row("kill -9 cloud, restarted 1 s later", f, true);
  // The gateway stayed up: every copy the cloud saw again was a re-send after
  // the reconnect, which the gateway marks DUP, so none is a plain replay.
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE reason = 'replayed'"), 0)
      << sql("SELECT reason || ' ' || count(*) FROM security_events GROUP BY reason");
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_NE(slurp(dir() / "gateway1.out").find(", 0 still spooled"), std::string::npos)
      << slurp(dir() / "gateway1.out");
  stop_cloud(cloud);
}

// Last "connects N (R resumed, Z 0-RTT, F failed)" of the gateway's status lines.
std::int64_t connect_failures(const std::string& status) {
  static const std::regex re("(\\d+) failed\\)");
  std::int64_t last = -1;
  for (auto it = std::sregex_iterator(status.begin(), status.end(), re); it != std::sregex_iterator(); ++it) {
    last = std::stoll((*it)[1]);
  }
  return last;
}

TEST_F(PipelineTest, CloudDownForThirtySecondsGatewaySpoolsAndCatchesUp) {
  make_pki(20);
  auto cloud = start_cloud();
  auto gateway = start_gateway();
  auto fleet = start_fleet(20, 30, 40, gateway_udp_port_);
  std::this_thread::sleep_for(4s);
  ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the outage";
  EXPECT_EQ(cloud->stop(), 0);
  const auto stored_before = sql_int("SELECT count(*) FROM readings");
  std::this_thread::sleep_for(30s);
  // The fleet kept going and the gateway spooled: nothing reached storage.
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), stored_before);
  const auto failures = connect_failures(slurp(dir() / "gateway1.err"));
  // Exponential back-off with full jitter (a random delay up to 200 ms
  // doubling to 4 s, about 2 s on average once capped): some twenty attempts
  // in 30 s, where a fixed 200 ms retry would make 150.
  std::cout << "[ figures  ] gateway connect attempts failed during the 30 s outage: " << failures << std::endl;
  EXPECT_GE(failures, 3);
  EXPECT_LE(failures, 40);
  cloud = start_cloud();

  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_TRUE(wait_for_stored(f.readings));
  std::this_thread::sleep_for(1s);
  expect_exactly_once(f.readings);
  EXPECT_GT(f.readings, stored_before);
  expect_only_duplicates_audited();
  expect_fault_row("cloud down 30 s", f, true);
  // The gateway stayed up: every copy the cloud saw again was a re-send after
  // the reconnect, which the gateway marks DUP, so none is a plain replay.
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE reason = 'replayed'"), 0)
      << sql("SELECT reason || ' ' || count(*) FROM security_events GROUP BY reason");
  EXPECT_EQ(gateway->stop(), 0);
  auto h = stop_cloud(cloud);
  EXPECT_GE(h.full + h.resumed + h.zero_rtt, 1);
}

}  // namespace
}  // namespace armored::pipeline_test
