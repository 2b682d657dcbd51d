// `armored fleet --direct`: every simulated device is a gateway of itself,
// talking MQTT over mutual TLS 1.3 straight to the cloud with its own
// certificate. Every reading is stored exactly once, the second run resumes
// with each device's own ticket, and a cloud killed mid-stream loses nothing.

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;
using armored::testing::Subprocess;

class DirectTest : public PipelineTest {
 protected:
  Process start_direct(int devices, double speedup, double seconds, const std::string& tag) {
    Subprocess::Options o;
    o.cwd = dir();
    o.stdout_path = dir() / (tag + ".json");
    o.stderr_path = dir() / (tag + ".err");
    std::vector<std::string> args = {"--json", "fleet", "--direct", "--cloud", "localhost:" + std::to_string(cloud_port_),
                                     "--devices", std::to_string(devices), "--interval", "30s", "--speedup",
                                     std::to_string(speedup), "--duration", std::to_string(seconds) + "s",
                                     "--max-connecting", "4", "--pki", "pki", "--e3", "e3", "--state", "device-state"};
    args.insert(args.end(), extra_fleet_args_.begin(), extra_fleet_args_.end());
    return std::make_unique<Subprocess>(armored(std::move(args)), o);
  }
  nlohmann::json summary(const std::string& tag) {
    auto j = nlohmann::json::parse(slurp(dir() / (tag + ".json")), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << slurp(dir() / (tag + ".err"));
    return j.is_discarded() ? nlohmann::json::object() : j;
  }
};

TEST_F(DirectTest, HelpNamesDirectAndCloudIsRequired) {
  auto help = run(armored({"fleet", "--help"}), 20s);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--direct"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--cloud"), std::string::npos) << help.out;
  auto r = run(armored({"fleet", "--direct", "--devices", "1", "--pki", "pki", "--e3", "e3", "--state", "s"}), 20s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--cloud"), std::string::npos) << r.err;
}

TEST_F(DirectTest, TwentyDevicesStoreEveryReadingOnceAndResumeWithTheirTickets) {
  make_pki(20);
  auto cloud = start_cloud();
  ASSERT_GT(cloud_port_, 0);

  auto fleet = start_direct(20, 60, 6, "direct1");
  auto f = finish_fleet(*fleet, "direct1");
  EXPECT_EQ(f.exit_code, 0) << slurp(dir() / "direct1.err");
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_EQ(f.dropped, 0);
  ASSERT_GT(f.readings, 20 * 6);  // two readings per second per device, minus the ramp
  auto s1 = summary("direct1");
  EXPECT_EQ(s1.value("connects", 0), 20);
  EXPECT_EQ(s1.value("connect_failures", -1), 0);
  EXPECT_TRUE(wait_for_stored(f.readings, 20s));
  expect_exactly_once(f.readings);
  // Each device published under its own identity (the cloud's ACL held).
  EXPECT_EQ(sql_int("SELECT count(DISTINCT device) FROM readings"), 20);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");

  // Again with the state and tickets of the first run: sessions resume.
  auto again = start_direct(20, 60, 3, "direct2");
  auto f2 = finish_fleet(*again, "direct2");
  EXPECT_EQ(f2.exit_code, 0) << slurp(dir() / "direct2.err");
  auto s2 = summary("direct2");
  std::cout << "[ figures  ] second run: " << s2.value("connects", 0) << " connections, " << s2.value("resumed", 0)
            << " resumed" << std::endl;
  EXPECT_EQ(s2.value("resumed", 0), 20);
  const auto total = f.readings + f2.readings;
  EXPECT_TRUE(wait_for_stored(total, 20s));
  // Exactly once; a restarted device skips the sequence numbers it had
  // reserved (E3 state), so the gap check applies to one run only.
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), total);
  EXPECT_EQ(sql_int("SELECT count(*) FROM (SELECT DISTINCT device, epoch, seq FROM readings)"), total);
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.failed, 0);
  EXPECT_EQ(h.full, 20);
  EXPECT_EQ(h.resumed + h.zero_rtt, 20);
}

// Direct devices sealing through the device SDK's C library: the cloud
// stores every reading once.
TEST_F(DirectTest, DeviceSdkSealerStoresEveryReadingOnce) {
  make_pki(5);
  auto cloud = start_cloud();
  ASSERT_GT(cloud_port_, 0);
  extra_fleet_args_ = {"--sealer", "device-sdk"};
  auto fleet = start_direct(5, 60, 4, "direct");
  auto f = finish_fleet(*fleet, "direct");
  EXPECT_EQ(f.exit_code, 0) << slurp(dir() / "direct.err");
  EXPECT_EQ(f.sealer, "device-sdk");
  EXPECT_EQ(f.unacknowledged, 0);
  ASSERT_GT(f.readings, 5 * 4);
  EXPECT_TRUE(wait_for_stored(f.readings, 20s));
  expect_exactly_once(f.readings);
  auto h = stop_cloud(cloud);
  EXPECT_EQ(h.failed, 0);
}

TEST_F(DirectTest, CloudKilledMidStreamDirectDevicesLoseNothing) {
  make_pki(20);
  auto cloud = start_cloud();
  auto fleet = start_direct(20, 60, 12, "direct");
  std::this_thread::sleep_for(4s);
  ASSERT_TRUE(wait_for_stored(1, 10s)) << "nothing stored before the crash";
  cloud->signal(SIGKILL);
  ASSERT_TRUE(cloud->wait(5s).has_value());
  std::this_thread::sleep_for(1s);
  cloud = start_cloud();  // same port, database and E3 state

  auto f = finish_fleet(*fleet, "direct");
  EXPECT_EQ(f.exit_code, 0) << slurp(dir() / "direct.err");
  EXPECT_EQ(f.unacknowledged, 0);
  EXPECT_TRUE(wait_for_stored(f.readings, 30s));
  std::this_thread::sleep_for(1s);
  expect_exactly_once(f.readings);
  // Re-sent after the crash and already stored: dropped as replays, nothing else.
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE kind <> 'connected' AND (kind <> 'rejected_envelope' OR "
                    "reason NOT LIKE 'replayed%')"),
            0)
      << sql("SELECT kind || ': ' || reason FROM security_events");
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::pipeline_test
