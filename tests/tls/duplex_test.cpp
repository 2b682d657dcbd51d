// tls::Duplex over a loopback TCP pair with real TLS on both ends. Each end
// runs on its own io_context, both polled from this thread, so a test can
// stop one end (a peer that stops reading) by not polling it.
#include "tls/duplex.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "tls/test_fleet.h"

namespace armored::tls {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

// What one end's event handler saw, in order.
struct Seen {
  bool handshake = false;
  Bytes data;
  std::optional<TlsError> failed;
  std::optional<Closed> closed;
  bool finished = false;  // wait_finished() completed

  Duplex::EventHandler handler() {
    return [this](Event& e) {
      if (std::holds_alternative<HandshakeComplete>(e)) handshake = true;
      if (auto* d = std::get_if<ApplicationData>(&e)) data.insert(data.end(), d->bytes.begin(), d->bytes.end());
      if (auto* f = std::get_if<Failed>(&e)) failed = f->error;
      if (auto* c = std::get_if<Closed>(&e)) closed = *c;
    };
  }
};

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 131u + i / 65536u) & 0xff);
  return b;
}

class DuplexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sc = TlsContext::create(fleet.server_config(), clock);
    ASSERT_TRUE(sc) << sc.error().message;
    server_ctx = std::move(*sc);
    auto cc = TlsContext::create(fleet.client_config(), clock);
    ASSERT_TRUE(cc) << cc.error().message;
    client_ctx = std::move(*cc);
    // A loopback pair: the client end on client_io, the server end on server_io.
    tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_sock.connect(acceptor.local_endpoint());
    server_sock = acceptor.accept();
  }

  std::shared_ptr<Duplex> make_client(Clock& c) {
    ClientOptions o;
    o.server_name = "localhost";
    auto conn = Connection::client(*client_ctx, o);
    EXPECT_TRUE(conn);
    return std::make_shared<Duplex>(std::move(client_sock), std::move(*conn), c);
  }
  std::shared_ptr<Duplex> make_server(Clock& c) {
    auto conn = Connection::server(*server_ctx);
    EXPECT_TRUE(conn);
    return std::make_shared<Duplex>(std::move(server_sock), std::move(*conn), c);
  }
  static void watch_finish(asio::io_context& io, const std::shared_ptr<Duplex>& d, Seen& seen) {
    asio::co_spawn(
        io,
        [d, &seen]() -> asio::awaitable<void> {
          co_await d->wait_finished();
          seen.finished = true;
        },
        asio::detached);
  }
  // Polls the ends that are not paused until `done` or `limit` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s,
                 bool poll_client = true, bool poll_server = true) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::size_t n = 0;
      if (poll_client) n += client_io.poll();
      if (poll_server) n += server_io.poll();
      if (n == 0) std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  void handshake(const std::shared_ptr<Duplex>& c, Seen& cs, const std::shared_ptr<Duplex>& s, Seen& ss) {
    s->start(ss.handler());
    c->start(cs.handler());
    watch_finish(client_io, c, cs);
    watch_finish(server_io, s, ss);
    ASSERT_TRUE(run_until([&] { return cs.handshake && ss.handshake; }));
  }

  testing::Fleet fleet;
  SystemClock clock;
  std::unique_ptr<TlsContext> server_ctx, client_ctx;
  asio::io_context client_io, server_io;
  tcp::socket client_sock{client_io};
  tcp::socket server_sock{server_io};
};

// The handshake limit comes from Connection::next_deadline(): with a manual
// clock nothing fires however long the real wait, and it fails as soon as
// the clock passes the deadline (no polling interval in between).
TEST_F(DuplexTest, HandshakeTimeoutFiresAtDeadlineOfSilentPeer) {
  ManualClock manual{SystemClock().now()};
  auto s = make_server(manual);
  Seen ss;
  s->set_handshake_timeout(5s);
  s->start(ss.handler());
  watch_finish(server_io, s, ss);
  EXPECT_FALSE(run_until([&] { return ss.failed.has_value(); }, 200ms));
  manual.advance(4900ms);
  s->reschedule();
  EXPECT_FALSE(run_until([&] { return ss.failed.has_value(); }, 100ms));
  manual.advance(100ms);
  s->reschedule();
  ASSERT_TRUE(run_until([&] { return ss.finished; }, 2s));
  ASSERT_TRUE(ss.failed);
  EXPECT_EQ(ss.failed->reason, Reason::kTimeout);
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(server_ctx->counters().failures[static_cast<std::size_t>(Reason::kTimeout)].load(), 1u);
}

TEST_F(DuplexTest, HandshakeTimeoutOnRealClockFiresOnceDue) {
  auto s = make_server(clock);
  Seen ss;
  s->set_handshake_timeout(150ms);
  const auto t0 = std::chrono::steady_clock::now();
  s->start(ss.handler());
  watch_finish(server_io, s, ss);
  ASSERT_TRUE(run_until([&] { return ss.finished; }, 5s));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(ss.failed);
  EXPECT_EQ(ss.failed->reason, Reason::kTimeout);
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 2s);
}

TEST_F(DuplexTest, OwnerDeadlineDrivesTheSameTimer) {
  ManualClock manual{SystemClock().now()};
  auto c = make_client(manual);
  auto s = make_server(manual);
  Seen cs, ss;
  std::optional<Clock::Duration> owner_deadline = manual.monotonic() + 30s;
  std::vector<Clock::Duration> fired;
  s->set_owner_timer([&] { return owner_deadline; },
                     [&](Clock::Duration now) {
                       fired.push_back(now);
                       owner_deadline = now + 30s;
                     });
  handshake(c, cs, s, ss);
  EXPECT_FALSE(run_until([&] { return !fired.empty(); }, 100ms));
  manual.advance(31s);
  s->reschedule();
  ASSERT_TRUE(run_until([&] { return fired.size() == 1; }, 2s));
  EXPECT_EQ(fired[0], manual.monotonic());
  // Moved earlier by the owner: reschedule() picks it up.
  owner_deadline = manual.monotonic();
  s->reschedule();
  ASSERT_TRUE(run_until([&] { return fired.size() == 2; }, 2s));
  EXPECT_FALSE(run_until([&] { return fired.size() == 3; }, 100ms));
  c->close();
  ASSERT_TRUE(run_until([&] { return cs.finished && ss.finished; }));
}

TEST_F(DuplexTest, PeerShutsDownWriteSideMidHandshake) {
  auto s = make_server(clock);
  Seen ss;
  s->start(ss.handler());
  watch_finish(server_io, s, ss);
  client_sock.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until([&] { return ss.finished; }));
  ASSERT_TRUE(ss.failed);
  EXPECT_EQ(ss.failed->reason, Reason::kUnexpectedEof);
  EXPECT_FALSE(ss.handshake);
}

TEST_F(DuplexTest, PeerClosesAfterReadingTheClientHello) {
  auto c = make_client(clock);
  Seen cs;
  c->start(cs.handler());
  watch_finish(client_io, c, cs);
  run_until([] { return false; }, 50ms, true, false);  // the ClientHello goes out
  std::array<std::uint8_t, 4096> buf;
  asio::error_code ec;
  const std::size_t n = server_sock.read_some(asio::buffer(buf), ec);
  ASSERT_FALSE(ec);
  EXPECT_GT(n, 0u);
  server_sock.close();
  ASSERT_TRUE(run_until([&] { return cs.finished; }));
  ASSERT_TRUE(cs.failed);
  EXPECT_EQ(cs.failed->reason, Reason::kUnexpectedEof);
}

TEST_F(DuplexTest, PeerShutsDownWriteSideAfterHandshakeWithoutCloseNotify) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  handshake(c, cs, s, ss);
  s->socket().shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until([&] { return cs.finished; }));
  ASSERT_TRUE(cs.failed);
  EXPECT_EQ(cs.failed->reason, Reason::kUnexpectedEof);
  // The client closed its socket: the server's reader sees it and ends too.
  ASSERT_TRUE(run_until([&] { return ss.finished; }));
  EXPECT_TRUE(ss.failed || ss.closed);
}

TEST_F(DuplexTest, CloseAfterHandshakeIsACleanCloseForThePeer) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  handshake(c, cs, s, ss);
  s->close();
  ASSERT_TRUE(run_until([&] { return cs.finished && ss.finished; }));
  ASSERT_TRUE(cs.closed);
  EXPECT_TRUE(cs.closed->clean);
  EXPECT_FALSE(cs.failed);
}

// Larger than Connection::kMaxPendingWrite: write_some splits it and the
// peer receives every byte in order.
TEST_F(DuplexTest, WriteSomeSplitsWritesOverThePerWriteLimit) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  handshake(c, cs, s, ss);
  const Bytes big = pattern(3 * Connection::kMaxPendingWrite + 7);
  EXPECT_FALSE(c->connection().write(big));  // one write() refuses it
  EXPECT_EQ(c->write_some(big), big.size());
  ASSERT_TRUE(run_until([&] { return ss.data.size() >= big.size(); }));
  EXPECT_EQ(ss.data, big);
}

// The documented behaviour: a peer that stops reading makes TLS output wait
// in queued_output() (the kernel's socket buffers hold only part of it);
// nothing is lost and it all arrives, in order, once the peer reads again.
TEST_F(DuplexTest, PeerThatStopsReadingHoldsOutputUntilItReadsAgain) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  handshake(c, cs, s, ss);
  const Bytes big = pattern(32u << 20);
  std::size_t written = 0;
  while (written < big.size()) {
    const std::size_t n = std::min<std::size_t>(256 * 1024, big.size() - written);
    ASSERT_EQ(c->write_some(ByteSpan(big).subspan(written, n)), n);
    written += n;
    client_io.poll();  // the writer moves what the socket takes
  }
  // Only the client runs: the server end reads nothing.
  run_until([] { return false; }, 200ms, true, false);
  const std::size_t held = c->queued_output();
  EXPECT_GT(held, 8u << 20) << "the kernel took more than expected: the test no longer shows the wait";
  EXPECT_LE(held, big.size() + big.size() / 8);  // TLS records add a few percent
  EXPECT_LT(ss.data.size(), big.size());
  ASSERT_TRUE(run_until([&] { return ss.data.size() >= big.size(); }, 30s));
  EXPECT_EQ(ss.data, big);
  EXPECT_EQ(c->queued_output(), 0u);
}

// close() with data still queued: the data goes first, then close_notify,
// so the peer sees every byte and a clean close.
TEST_F(DuplexTest, CloseDeliversQueuedDataBeforeCloseNotify) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  handshake(c, cs, s, ss);
  const Bytes big = pattern(4u << 20);
  ASSERT_EQ(c->write_some(big), big.size());
  c->close();
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(c->write_some(big), 0u);
  ASSERT_TRUE(run_until([&] { return cs.finished && ss.finished; }, 30s));
  EXPECT_EQ(ss.data, big);
  ASSERT_TRUE(ss.closed);
  EXPECT_TRUE(ss.closed->clean);
  EXPECT_FALSE(ss.failed);
}

// Written before the handshake (a client's first message): held, then sent.
TEST_F(DuplexTest, WriteBeforeHandshakeIsSentOnceKeysExist) {
  auto c = make_client(clock);
  auto s = make_server(clock);
  Seen cs, ss;
  ASSERT_TRUE(c->write(as_bytes("first")));
  handshake(c, cs, s, ss);
  ASSERT_TRUE(run_until([&] { return ss.data.size() >= 5; }));
  EXPECT_EQ(std::string(ss.data.begin(), ss.data.end()), "first");
  c->close();
  ASSERT_TRUE(run_until([&] { return cs.finished && ss.finished; }));
}

}  // namespace
}  // namespace armored::tls
