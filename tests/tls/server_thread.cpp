#include "tls/server_thread.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

namespace armored::testing {

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// One connection's progress, kept by its Duplex event handler.
struct Echo {
  std::weak_ptr<tls::Duplex> duplex;
  SeenConnection seen;
  bool handshake = false, have_data = false, recorded = false;
};
}  // namespace

ServerThread::ServerThread(tls::TlsContext& ctx, ServeOptions opts)
    : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(ctx, opts), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void ServerThread::record(SeenConnection seen) {
  {
    std::lock_guard lock(mu_);
    seen_.push_back(std::move(seen));
  }
  cv_.notify_all();
}

asio::awaitable<void> ServerThread::accept_loop(tls::TlsContext& ctx, ServeOptions opts) {
  std::size_t accepted = 0;
  while (acceptor_.is_open() && (opts.max_connections == 0 || accepted < opts.max_connections)) {
    auto [ec, sock] = co_await acceptor_.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      continue;
    }
    ++accepted;
    auto conn = tls::Connection::server(ctx);
    if (!conn) continue;
    auto duplex = std::make_shared<tls::Duplex>(std::move(sock), std::move(*conn), ctx.clock());
    duplex->set_handshake_timeout(opts.handshake_timeout);
    auto echo = std::make_shared<Echo>();
    echo->duplex = duplex;
    // After the handshake: answer the first chunk (0-RTT data may come
    // before the handshake completes), or record a connection closed
    // without one.
    auto answer = [this, echo] {
      if (echo->recorded || !echo->handshake) return;
      auto d = echo->duplex.lock();
      if (!d) return;
      if (echo->have_data) {
        std::string reply = "echo:" + echo->seen.data;
        (void)d->write(as_bytes(reply));
      }
      echo->recorded = true;
      record(echo->seen);
      d->close();
    };
    duplex->start([echo, answer](tls::Event& e) {
      if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) {
        echo->handshake = true;
        echo->seen.handshake = *hc;
        if (echo->have_data) answer();
      } else if (auto* d = std::get_if<tls::ApplicationData>(&e)) {
        if (echo->have_data || d->bytes.empty()) return;
        echo->have_data = true;
        echo->seen.data = std::string(as_string(d->bytes));
        echo->seen.data_was_early = d->arrived_as_early_data;
        answer();
      } else if (std::holds_alternative<tls::Closed>(e) || std::holds_alternative<tls::Failed>(e)) {
        answer();
      }
    });
  }
}

ServerThread::~ServerThread() {
  asio::post(io_, [this] {
    asio::error_code ec;
    acceptor_.close(ec);
  });
  io_.stop();
  thread_.join();
}

std::vector<SeenConnection> ServerThread::wait_for(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
  return seen_;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace armored::testing
