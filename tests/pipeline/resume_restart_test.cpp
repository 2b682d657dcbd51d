// A gateway resumes its TLS session (no full handshake) with a restarted
// `armored cloud`, because the cloud keeps its ticket-encryption keys in
// [tls] ticket_key_file. The same run without the file is the reference:
// the restarted cloud cannot open the old ticket and handshakes in full.

#include <sys/stat.h>

#include <thread>

#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;

class ResumeRestartTest : public PipelineTest {
 protected:
  // Cloud and gateway up, readings through, then the cloud restarted while
  // the gateway keeps running (it reconnects with the ticket it holds), and
  // more readings through. Returns the restarted cloud's handshake counts.
  Handshakes restart_cloud_under_gateway() {
    make_pki(3);
    auto cloud = start_cloud();
    auto gateway = start_gateway();
    auto first = finish_fleet(*start_fleet(3, 600, 2, gateway_udp_port_, "fleet1"), "fleet1");
    EXPECT_EQ(first.exit_code, 0);
    EXPECT_TRUE(wait_for_stored(first.readings));
    auto h1 = stop_cloud(cloud);
    EXPECT_GE(h1.full, 1);

    cloud = start_cloud();  // same port; the gateway is backing off and retrying
    auto second = finish_fleet(*start_fleet(3, 600, 2, gateway_udp_port_, "fleet2"), "fleet2");
    EXPECT_EQ(second.exit_code, 0);
    EXPECT_TRUE(wait_for_stored(first.readings + second.readings, 30s));
    EXPECT_EQ(gateway->stop(), 0);
    return stop_cloud(cloud);
  }
};

TEST_F(ResumeRestartTest, GatewayResumesAfterCloudRestartWithTicketKeyFile) {
  auto h = restart_cloud_under_gateway();
  std::cout << "[ figures  ] restarted cloud with ticket_key_file: " << h.full << " full, " << h.resumed
            << " resumed, " << h.zero_rtt << " 0-RTT" << std::endl;
  EXPECT_EQ(h.full, 0) << "the gateway made a full handshake with the restarted cloud";
  EXPECT_GE(h.resumed + h.zero_rtt, 1);
  EXPECT_EQ(h.failed, 0);
  struct stat st {};
  ASSERT_EQ(::stat((dir() / "armored-cloud.tickets").c_str(), &st), 0) << "default ticket key file not written";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ResumeRestartTest, WithoutTicketKeyFileTheRestartedCloudHandshakesInFull) {
  cloud_tls_extra_ = "ticket_key_file = \"\"\n";
  auto h = restart_cloud_under_gateway();
  std::cout << "[ figures  ] restarted cloud, keys in memory only (reference): " << h.full << " full, "
            << h.resumed << " resumed, " << h.zero_rtt << " 0-RTT" << std::endl;
  EXPECT_GE(h.full, 1);
  EXPECT_EQ(h.resumed + h.zero_rtt, 0);
  EXPECT_FALSE(std::filesystem::exists(dir() / "armored-cloud.tickets"));
}

}  // namespace
}  // namespace armored::pipeline_test
