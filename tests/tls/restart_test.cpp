// Resumption across a real client process restart: the only thing the second
// process shares with the first is the ticket file on disk.
#include <gtest/gtest.h>

#include "tls/openssl_peers.h"
#include "tls/server_thread.h"

namespace armored::tls {
namespace {

class ClientRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_program("openssl")) GTEST_SKIP() << "openssl CLI not installed";
  }
  testing::RunResult probe(std::uint16_t port, const std::string& max_age, const std::string& msg) {
    return testing::run({ARMORED_TLS_PROBE, fleet.ca_file.string(), fleet.gateway_chain.string(),
                         fleet.gateway_key.string(), "localhost", std::to_string(port),
                         (fleet.dir / "tickets").string(), max_age, msg},
                        std::chrono::seconds(30));
  }
  testing::Fleet fleet;
};

TEST_F(ClientRestart, SecondProcessResumesWithZeroRttFromTicketFile) {
  testing::OpensslServer srv(fleet, {"-early_data"});
  auto first = probe(srv.port(), "7200", "boot\n");
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(first.out, "resumed=0 early=0\n");
  auto second = probe(srv.port(), "7200", "reading\n");
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(second.out, "resumed=1 early=1\n");
  EXPECT_TRUE(testing::eventually([&] { return srv.output().find("reading") != std::string::npos; }));
}

TEST_F(ClientRestart, TicketOlderThanMaxAgeIsNotUsed) {
  testing::OpensslServer srv(fleet, {"-early_data"});
  ASSERT_EQ(probe(srv.port(), "7200", "boot\n").exit_code, 0);
  auto stale = probe(srv.port(), "0", "reading\n");  // every entry is too old
  EXPECT_EQ(stale.out, "resumed=0 early=0\n") << stale.err;
  EXPECT_NE(stale.err.find("stale session ticket"), std::string::npos) << stale.err;
}

TEST_F(ClientRestart, CorruptTicketFileIsIgnoredWithWarning) {
  testing::OpensslServer srv(fleet, {"-early_data"});
  ASSERT_EQ(probe(srv.port(), "7200", "boot\n").exit_code, 0);
  auto file = fleet.dir / "tickets" / ("localhost_" + std::to_string(srv.port()) + ".ticket");
  ASSERT_TRUE(std::filesystem::exists(file));
  testing::write_text(file, "garbage that is not a ticket");
  auto r = probe(srv.port(), "7200", "reading\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "resumed=0 early=0\n");
  EXPECT_NE(r.err.find("corrupt session ticket"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace armored::tls
