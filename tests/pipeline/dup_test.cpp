// The DUP flag end to end: the same genuine batch published again over the
// cloud's listener is dropped from storage either way; the audit trail calls
// the copy "redelivered" when its PUBLISH carried DUP=1 and "replayed" when
// it did not. The client is our own ClientSession over mutual TLS 1.3, the
// only one here that can set DUP on a first send. Also the gateway's rule
// for what it sends again after a restart.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <regex>
#include <thread>

#include "mqtt/client_session.h"
#include "peer_fixture.h"
#include "tls/client_link.h"
#include "tls/context.h"

namespace armored::pipeline_test {
namespace {
namespace fs = std::filesystem;

struct Sent {
  Bytes payload;
  bool dup = false;
};

class DupTest : public PeerTest {
 protected:
  // Publishes each payload QoS 1 as gateway gw1 on one connection and waits
  // for its PUBACK before the next. Returns how many were acknowledged.
  int publish_all(const std::vector<Sent>& messages) {
    tls::TlsConfig tc;
    tc.role = tls::Role::kClient;
    tc.ca_file = dir() / "pki" / "root-ca.crt";
    tc.cert_chain = dir() / "pki" / "gateway" / "gw1.crt";
    tc.intermediates = dir() / "pki" / "issuing-ca.crt";
    tc.key_file = dir() / "pki" / "gateway" / "gw1.key";
    SystemClock clock;
    auto ctx = tls::TlsContext::create(tc, clock);
    EXPECT_TRUE(ctx) << ctx.error().message;
    if (!ctx) return -1;
    int acked = 0;
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          armored::testing::ConnectOptions co;
          co.host = "localhost";
          co.port = static_cast<std::uint16_t>(cloud_port_);
          auto stream = co_await armored::testing::ClientLink::connect(**ctx, co);
          if (!stream) {
            ADD_FAILURE() << stream.error().message;
            co_return;
          }
          auto now = [&] { return std::chrono::duration_cast<mqtt::Time>(clock.monotonic()); };
          mqtt::ClientOptions mo;
          mo.client_id = "gw1";
          mqtt::ClientSession s(mo);
          (void)s.connect(now());
          for (const auto& m : messages) {
            auto id = s.publish("armored/v1/gw1/up", m.payload, mqtt::QoS::kAtLeastOnce, false, now(), m.dup);
            EXPECT_TRUE(id.has_value());
            bool done = false;
            while (!done) {
              auto out = s.pending_output();
              if (!out.empty()) {
                auto w = (*stream)->write(out);
                if (!w) co_return;
                s.consume_output(out.size());
              }
              auto in = co_await (*stream)->read();
              if (!in || in->bytes.empty()) co_return;
              for (const auto& ev : s.receive(in->bytes, now())) {
                if (ev.kind == mqtt::ClientEvent::Kind::kPublishAcked && ev.packet_id == *id) done = true;
                if (ev.kind == mqtt::ClientEvent::Kind::kClosed) co_return;
              }
            }
            ++acked;
          }
          (void)s.disconnect(now());
          (void)(*stream)->write(s.pending_output());
          co_await (*stream)->close();
        },
        asio::detached);
    io.run_for(std::chrono::seconds(30));
    return acked;
  }
};

TEST_F(DupTest, CopyInADupPublishIsRedeliveredWithoutOneIsReplayedNeitherIsStored) {
  make_pki(1, {"gw1"});
  auto got = capture(1);
  ASSERT_EQ(got.size(), 1u);
  const Captured& c = got.begin()->second;
  auto cloud = start_cloud();
  Bytes first = batch_of({c.announcement, c.uplinks[0], c.uplinks[1]});
  Bytes fresh = batch_of({c.uplinks[2]});
  // A first delivery marked DUP is stored like any other (DUP skips nothing),
  // the copies are dropped, and only their label differs.
  ASSERT_EQ(publish_all({{first, false}, {first, true}, {first, false}, {fresh, true}}), 4);
  ASSERT_TRUE(wait_for_stored(3, std::chrono::seconds(10)));
  EXPECT_EQ(wait_events("reason = 'replayed'", 2), 2);
  EXPECT_EQ(sql_int("SELECT count(*) FROM readings"), 3);
  EXPECT_EQ(sql("SELECT reason || ' ' || count(*) FROM security_events WHERE kind <> 'connected' GROUP BY reason ORDER BY reason"),
            "redelivered 2\nreplayed 2");
  EXPECT_EQ(sql_int("SELECT count(*) FROM security_events WHERE reason = 'redelivered' AND peer = 'gw1' AND "
                    "detail LIKE 'replayed in a DUP publish%'"),
            2)
      << sql("SELECT reason, peer, detail FROM security_events");
  stop_cloud(cloud);
  EXPECT_NE(slurp(dir() / "cloud1.out").find("2 redelivered"), std::string::npos) << slurp(dir() / "cloud1.out");
}

}  // namespace
}  // namespace armored::pipeline_test

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;

// "N forwarded again with DUP" from the gateway's stop line (-1 if absent).
std::int64_t forwarded_with_dup(const std::string& out) {
  static const std::regex re("(\\d+) still spooled, (\\d+) forwarded again with DUP");
  std::smatch m;
  return std::regex_search(out, m, re) ? std::stoll(m[2]) : -1;
}
std::int64_t still_spooled(const std::string& out) {
  static const std::regex re("(\\d+) still spooled");
  std::smatch m;
  return std::regex_search(out, m, re) ? std::stoll(m[1]) : -1;
}

// The gateway's restart rule: whatever its spool held when it stopped may
// have been sent already, so all of it goes out again with DUP=1. Here none
// of it had reached the cloud (the cloud was away), so nothing is a
// duplicate: DUP on a first delivery costs nothing and is stored.
TEST_F(PipelineTest, GatewayRestartSendsWhatItsSpoolHeldWithDup) {
  make_pki(5);
  auto cloud = start_cloud();
  stop_cloud(cloud);  // the gateway can only spool
  auto gateway = start_gateway();
  auto fleet = start_fleet(5, 60, 3, gateway_udp_port_);
  auto f = finish_fleet(*fleet);
  EXPECT_EQ(f.exit_code, 0);
  ASSERT_GT(f.readings, 0);
  EXPECT_EQ(gateway->stop(), 0);
  const auto spooled = still_spooled(slurp(dir() / "gateway1.out"));
  EXPECT_GE(spooled, f.readings) << slurp(dir() / "gateway1.out");  // readings plus announcements

  cloud = start_cloud();
  gateway = start_gateway();
  EXPECT_TRUE(wait_for_stored(f.readings));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(gateway->stop(), 0);
  const auto out = slurp(dir() / "gateway2.out");
  std::cout << "[ figures  ] spooled at restart " << spooled << ", forwarded again with DUP "
            << forwarded_with_dup(out) << std::endl;
  EXPECT_EQ(forwarded_with_dup(out), spooled) << out;
  EXPECT_EQ(still_spooled(out), 0) << out;
  expect_exactly_once(f.readings);
  EXPECT_EQ(sql("SELECT kind || ': ' || reason FROM security_events WHERE kind <> 'connected'"), "");
  stop_cloud(cloud);
}

}  // namespace
}  // namespace armored::pipeline_test
