// ClientLink over loopback TCP with real TLS 1.3 (mutual, the test fleet's
// certificates) against a real MQTT peer: our tls::Duplex server side with
// an mqtt::ServerSession, in the same io_context as the link.

#include "mqtt_link/client_link.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <deque>

#include "mqtt/server_session.h"
#include "support/process.h"
#include "tls/context.h"
#include "tls/duplex.h"
#include "tls/test_fleet.h"
#include "tls/session_store.h"

namespace armored::mqtt_link {
namespace {
using namespace std::chrono_literals;
using asio::ip::tcp;
using Steady = std::chrono::steady_clock;
using K = mqtt::ClientEvent::Kind;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

mqtt::Time peer_now() { return std::chrono::duration_cast<mqtt::Time>(Steady::now().time_since_epoch()); }

mqtt::Limits big_limits() {
  mqtt::Limits l;
  l.max_packet_size = 8u << 20;
  l.max_payload_size = 8u << 20;
  return l;
}

// What the peer does once it has accepted a CONNECT.
enum class AfterConnack { kServe, kGoSilent, kClose, kHalfClose };

// An MQTT server on 127.0.0.1:<ephemeral> over our TLS server side.
class Peer {
 public:
  Peer(asio::io_context& io, tls::TlsContext& ctx) : io_(io), ctx_(ctx), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }
  ~Peer() {
    asio::error_code ec;
    acceptor_.close(ec);
    for (auto& c : conns_) c->duplex->close();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  AfterConnack after = AfterConnack::kServe;
  bool hold_acks = false;  // PUBACKs wait for release_acks()
  std::size_t connects = 0;
  std::size_t clean_disconnects = 0;
  std::vector<Bytes> received;  // PUBLISH payloads, in arrival order
  std::vector<Steady::time_point> connected_at;

  void release_acks() {
    for (auto& c : conns_) {
      for (auto id : c->held) (void)c->session.acknowledge(id);
      c->held.clear();
      flush(*c);
    }
  }

 private:
  struct Conn {
    Conn() : session(options(), peer_now()) {}
    static mqtt::ServerOptions options() {
      mqtt::ServerOptions o;
      o.limits = big_limits();
      o.max_pending_acks = 100000;
      return o;
    }
    std::shared_ptr<tls::Duplex> duplex;
    mqtt::ServerSession session;
    std::vector<std::uint16_t> held;
    bool silent = false;
  };

  static void flush(Conn& c) {
    auto out = c.session.pending_output();
    if (!out.empty() && !c.duplex->closed()) c.session.consume_output(c.duplex->write_some(out));
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      auto conn = tls::Connection::server(ctx_);
      if (!conn) co_return;
      auto c = std::make_shared<Conn>();
      c->duplex = std::make_shared<tls::Duplex>(std::move(sock), std::move(*conn), clock_);
      conns_.push_back(c);
      Conn* raw = c.get();
      c->duplex->start([this, raw](tls::Event& e) { on_event(*raw, e); });
    }
  }

  void on_event(Conn& c, tls::Event& e) {
    auto* ad = std::get_if<tls::ApplicationData>(&e);
    if (!ad || c.silent) return;
    for (const auto& ev : c.session.receive(ad->bytes, peer_now())) {
      if (ev.kind == mqtt::ServerEvent::Kind::kConnected) {
        ++connects;
        connected_at.push_back(Steady::now());
        after_connack(c);
      } else if (ev.kind == mqtt::ServerEvent::Kind::kMessage) {
        received.emplace_back(ev.message.payload.begin(), ev.message.payload.end());
        if (ev.message.qos == mqtt::QoS::kAtLeastOnce) {
          if (hold_acks) {
            c.held.push_back(ev.message.packet_id);
          } else {
            (void)c.session.acknowledge(ev.message.packet_id);
          }
        }
      } else if (ev.kind == mqtt::ServerEvent::Kind::kClosed && !ev.error) {
        ++clean_disconnects;
      }
    }
    flush(c);
  }

  void after_connack(Conn& c) {
    flush(c);  // the CONNACK
    switch (after) {
      case AfterConnack::kServe:
        break;
      case AfterConnack::kGoSilent:
        c.silent = true;  // reads on, answers nothing (no PINGRESP)
        break;
      case AfterConnack::kClose:
        c.duplex->close();
        break;
      case AfterConnack::kHalfClose: {
        // Once the CONNACK is out: FIN without close_notify, still reading.
        auto t = std::make_shared<asio::steady_timer>(io_, 50ms);
        auto d = c.duplex;
        t->async_wait([t, d](const asio::error_code&) {
          asio::error_code ec;
          d->socket().shutdown(tcp::socket::shutdown_send, ec);
        });
        c.silent = true;
        break;
      }
    }
  }

  asio::io_context& io_;
  tls::TlsContext& ctx_;
  SystemClock clock_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Conn>> conns_;
};

class ClientLinkTest : public ::testing::Test {
 protected:
  ClientLinkTest() {
    auto s = tls::TlsContext::create(fleet_.server_config(), clock_);
    EXPECT_TRUE(s) << s.error().message;
    server_ctx_ = std::move(*s);
    auto c = tls::TlsContext::create(fleet_.client_config(), clock_);
    EXPECT_TRUE(c) << c.error().message;
    client_ctx_ = std::move(*c);
    peer_ = std::make_unique<Peer>(io_, *server_ctx_);
  }

  LinkOptions options(std::uint16_t port) {
    LinkOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.mqtt.client_id = "gw-1";
    o.mqtt.limits = big_limits();
    o.backoff_initial = 50ms;
    o.backoff_max = 400ms;
    o.log_name = "test";
    return o;
  }

  // Makes the link; its callbacks record into the fixture and call on_events_.
  void make_link(LinkOptions o) {
    LinkHandler h;
    h.on_session = [this](std::size_t budget) {
      ++sessions_;
      if (on_session_) on_session_(budget);
    };
    h.on_handshake = [this](const tls::HandshakeComplete& hc) { handshakes_.push_back(hc); };
    h.on_events = [this](std::span<const mqtt::ClientEvent> events) {
      for (const auto& ev : events) {
        kinds_.push_back(ev.kind);
        if (ev.kind == K::kPublishAcked) ++acked_;
      }
      if (on_events_) on_events_(events);
    };
    h.on_down = [this](const LinkDown& d) {
      downs_.push_back(d);
      down_at_.push_back(Steady::now());
    };
    link_ = std::make_unique<ClientLink>(io_, *client_ctx_, clock_, rng_, std::move(o), std::move(h));
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto end = Steady::now() + timeout;
    while (!done()) {
      if (Steady::now() >= end) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(10ms);
    }
    return true;
  }

  void TearDown() override {
    if (link_) {
      link_->stop();
      run_until([&] { return link_->finished(); }, 5s);
    }
    peer_.reset();
    run_until([] { return false; }, 50ms);  // let the closes run
  }

  testing::Fleet fleet_;
  SystemClock clock_;
  SystemRng rng_;
  asio::io_context io_;
  std::unique_ptr<tls::TlsContext> server_ctx_, client_ctx_;
  std::unique_ptr<Peer> peer_;
  std::unique_ptr<ClientLink> link_;
  std::function<void(std::size_t)> on_session_;
  std::function<void(std::span<const mqtt::ClientEvent>)> on_events_;
  std::size_t sessions_ = 0, acked_ = 0;
  std::vector<tls::HandshakeComplete> handshakes_;
  std::vector<K> kinds_;
  std::vector<LinkDown> downs_;
  std::vector<Steady::time_point> down_at_;
};

TEST_F(ClientLinkTest, ConnectsGetsConnackAndPublishes) {
  make_link(options(peer_->port()));
  link_->start();
  ASSERT_TRUE(run_until([&] { return link_->connected(); }));
  EXPECT_EQ(kinds_.front(), K::kConnected);
  EXPECT_EQ(peer_->connects, 1u);
  ASSERT_EQ(handshakes_.size(), 1u);
  EXPECT_FALSE(handshakes_[0].resumed);
  const Bytes payload{1, 2, 3};
  ASSERT_TRUE(link_->session()->publish("armored/v1/gw-1/up", payload, mqtt::QoS::kAtLeastOnce, false, link_->now()));
  link_->flush();
  ASSERT_TRUE(run_until([&] { return acked_ == 1; }));
  ASSERT_EQ(peer_->received.size(), 1u);
  EXPECT_EQ(peer_->received[0], payload);
  // A clean stop says DISCONNECT and makes no further attempt.
  link_->stop();
  ASSERT_TRUE(run_until([&] { return link_->finished(); }));
  EXPECT_TRUE(run_until([&] { return peer_->clean_disconnects == 1; }));
  ASSERT_EQ(downs_.size(), 1u);
  EXPECT_FALSE(downs_[0].retry_in);
  EXPECT_EQ(peer_->connects, 1u);
}

TEST_F(ClientLinkTest, KeepAliveTimeoutWhenThePeerGoesSilent) {
  peer_->after = AfterConnack::kGoSilent;
  auto o = options(peer_->port());
  o.mqtt.keep_alive_s = 1;
  o.mqtt.ping_timeout = 300ms;
  make_link(o);
  const auto started = Steady::now();
  link_->start();
  ASSERT_TRUE(run_until([&] { return link_->connected(); }));
  const auto connected = Steady::now();
  // PINGREQ 1 s after our last packet (CONNECT, sent before the handshake),
  // no PINGRESP 0.3 s later: the session ends it, woken by its own deadline
  // (the peer sends nothing that could wake it).
  ASSERT_TRUE(run_until([&] { return !downs_.empty(); }, 5s));
  EXPECT_GE(down_at_[0] - started, 1300ms);
  EXPECT_LT(down_at_[0] - connected, 2500ms);
  EXPECT_EQ(downs_[0].stage, LinkDown::Stage::kSession);
  ASSERT_TRUE(downs_[0].mqtt_error);
  EXPECT_EQ(downs_[0].mqtt_error->code, mqtt::ErrorCode::kKeepAliveTimeout);
  EXPECT_TRUE(downs_[0].retry_in);
}

TEST_F(ClientLinkTest, HalfClosedPeerEndsTheConnectionAndTheLinkComesBack) {
  peer_->after = AfterConnack::kHalfClose;
  make_link(options(peer_->port()));
  link_->start();
  ASSERT_TRUE(run_until([&] { return !downs_.empty(); }, 3s));
  EXPECT_EQ(downs_[0].stage, LinkDown::Stage::kSession);
  EXPECT_TRUE(downs_[0].tls_error) << downs_[0].reason;
  EXPECT_FALSE(link_->connected());
  peer_->after = AfterConnack::kServe;
  ASSERT_TRUE(run_until([&] { return link_->connected(); }, 3s));
  EXPECT_EQ(peer_->connects, 2u);
  EXPECT_EQ(sessions_, 2u);  // a new MQTT session for the new connection
}

TEST_F(ClientLinkTest, ReconnectsAfterThePeerClosesWithBackoffResetByConnack) {
  peer_->after = AfterConnack::kClose;
  auto tickets_dir = fleet_.dir / "tickets";
  std::filesystem::create_directories(tickets_dir);
  tls::SessionStore tickets(tickets_dir, clock_);
  auto o = options(peer_->port());
  o.tickets = &tickets;
  make_link(o);
  link_->start();
  ASSERT_TRUE(run_until([&] { return peer_->connects >= 4; }));
  ASSERT_GE(downs_.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    // Each connection got its CONNACK, so each wait is drawn from [0, initial].
    ASSERT_TRUE(downs_[i].retry_in);
    EXPECT_LE(*downs_[i].retry_in, 50ms);
    EXPECT_GE(peer_->connected_at[i + 1] - down_at_[i], *downs_[i].retry_in);
  }
  // The ticket of the first connection resumes the next ones.
  ASSERT_GE(handshakes_.size(), 3u);
  EXPECT_FALSE(handshakes_[0].resumed);
  EXPECT_TRUE(handshakes_[2].resumed);
}

TEST_F(ClientLinkTest, UnreachablePeerIsRetriedWithGrowingBackoff) {
  std::uint16_t port;
  {
    tcp::acceptor a(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  make_link(options(port));
  link_->start();
  ASSERT_TRUE(run_until([&] { return downs_.size() >= 5; }));
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(downs_[i].stage, LinkDown::Stage::kTcp);
    ASSERT_TRUE(downs_[i].retry_in);
    EXPECT_LE(*downs_[i].retry_in, std::min<std::chrono::milliseconds>(400ms, 50ms * (1 << i))) << i;
    if (i > 0) {
      EXPECT_GE(down_at_[i] - down_at_[i - 1], *downs_[i - 1].retry_in);
    }
  }
  EXPECT_EQ(sessions_, 0u);  // no session without TCP
}

TEST_F(ClientLinkTest, ManyPublishesToASlowPeerStayBoundedAndNoneIsLost) {
  constexpr std::size_t kMessages = 3000, kWindow = 8;
  peer_->hold_acks = true;
  auto o = options(peer_->port());
  o.mqtt.max_inflight = kWindow;
  make_link(o);
  std::size_t next = 0, max_inflight = 0, refused = 0;
  // The owner's policy: publish until the session's window is full, more on each PUBACK.
  auto publish_more = [&] {
    auto* s = link_->session();
    while (next < kMessages && s->state() == mqtt::ClientState::kConnected) {
      Bytes payload(512, static_cast<std::uint8_t>(next));
      payload[0] = static_cast<std::uint8_t>(next >> 8);
      if (!s->publish("armored/v1/gw-1/up", payload, mqtt::QoS::kAtLeastOnce, false, link_->now())) {
        ++refused;
        break;
      }
      ++next;
      max_inflight = std::max(max_inflight, s->inflight());
    }
  };
  on_events_ = [&](std::span<const mqtt::ClientEvent>) { publish_more(); };
  link_->start();
  // The peer acknowledges in bursts, every 10 ms.
  auto acker = std::make_shared<asio::steady_timer>(io_);
  std::function<void()> tick = [&] {
    acker->expires_after(10ms);
    acker->async_wait([&](const asio::error_code& ec) {
      if (ec) return;
      peer_->release_acks();
      tick();
    });
  };
  tick();
  ASSERT_TRUE(run_until([&] { return acked_ == kMessages; }, 60s)) << acked_ << " acknowledged";
  acker->cancel();
  EXPECT_LE(max_inflight, kWindow);
  EXPECT_GT(refused, 0u);  // the window did push back
  ASSERT_EQ(peer_->received.size(), kMessages);
  for (std::size_t i = 0; i < kMessages; ++i) {
    ASSERT_EQ(peer_->received[i][0], static_cast<std::uint8_t>(i >> 8)) << i;
    ASSERT_EQ(peer_->received[i][1], static_cast<std::uint8_t>(i)) << i;
  }
  EXPECT_EQ(peer_->connects, 1u);
}

TEST_F(ClientLinkTest, PublishLargerThanTheTlsWriteLimitArrivesWhole) {
  const std::size_t size = tls::Connection::kMaxPendingWrite + tls::Connection::kMaxPendingWrite / 2;
  Bytes big(size);
  for (std::size_t i = 0; i < size; ++i) big[i] = static_cast<std::uint8_t>(i * 7 + (i >> 12));
  make_link(options(peer_->port()));
  // Queued before the handshake, when TLS holds at most kMaxPendingWrite: the
  // rest must follow once the handshake is done.
  on_session_ = [&](std::size_t) {
    ASSERT_TRUE(link_->session()->publish("armored/v1/gw-1/up", big, mqtt::QoS::kAtLeastOnce, false, link_->now()));
  };
  link_->start();
  ASSERT_TRUE(run_until([&] { return acked_ == 1; }, 20s));
  on_session_ = nullptr;
  // And once connected, larger still.
  Bytes bigger(3 * tls::Connection::kMaxPendingWrite, 0x5a);
  ASSERT_TRUE(link_->session()->publish("armored/v1/gw-1/up", bigger, mqtt::QoS::kAtLeastOnce, false, link_->now()));
  link_->flush();
  ASSERT_TRUE(run_until([&] { return acked_ == 2; }, 20s));
  ASSERT_EQ(peer_->received.size(), 2u);
  EXPECT_EQ(peer_->received[0], big);
  EXPECT_EQ(peer_->received[1], bigger);
}

TEST_F(ClientLinkTest, ConnectLimiterHoldsASlotUntilConnack) {
  ConnectLimiter limiter(1);
  peer_->after = AfterConnack::kGoSilent;  // CONNACK, then nothing
  auto o = options(peer_->port());
  o.limiter = &limiter;
  make_link(o);
  LinkHandler h2;
  bool second_connected = false;
  h2.on_events = [&](std::span<const mqtt::ClientEvent> events) {
    for (const auto& ev : events) second_connected |= ev.kind == K::kConnected;
  };
  ClientLink second(io_, *client_ctx_, clock_, rng_, o, std::move(h2));
  link_->start();
  second.start();
  ASSERT_TRUE(run_until([&] { return link_->connected() && second_connected; }));
  EXPECT_EQ(peer_->connects, 2u);
  EXPECT_EQ(limiter.waiting(), 0u);
  second.stop();
  ASSERT_TRUE(run_until([&] { return second.finished(); }));
}

TEST_F(ClientLinkTest, StopWhileWaitingForASlotFinishes) {
  ConnectLimiter limiter(0);  // never a slot
  make_link([&] {
    auto o = options(peer_->port());
    o.limiter = &limiter;
    return o;
  }());
  link_->start();
  ASSERT_TRUE(run_until([&] { return limiter.waiting() == 1; }));
  link_->stop();
  ASSERT_TRUE(run_until([&] { return link_->finished(); }));
  EXPECT_EQ(sessions_, 0u);
  EXPECT_EQ(limiter.waiting(), 0u);
}

}  // namespace
}  // namespace armored::mqtt_link
