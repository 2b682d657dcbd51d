// The DUP flag end to end: the same genuine batch published again over the
// cloud's listener is dropped from storage either way; the audit trail calls
// the copy "redelivered" when its PUBLISH carried DUP=1 and "replayed" when
// it did not. The client is our own ClientSession over mutual TLS 1.3, the
// only one here that can set DUP on a first send.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "mqtt/client_session.h"
#include "peer_fixture.h"
#include "tls/asio_client.h"
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
          tls::ConnectOptions co;
          co.host = "localhost";
          co.port = static_cast<std::uint16_t>(cloud_port_);
          auto stream = co_await tls::tls_connect(**ctx, co);
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
                auto w = co_await (*stream)->write(out);
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
          (void)co_await (*stream)->write(s.pending_output());
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
  EXPECT_EQ(sql("SELECT reason || ' ' || count(*) FROM security_events GROUP BY reason ORDER BY reason"),
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
