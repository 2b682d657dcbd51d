#include "tls/server_thread.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

namespace armored::testing {

ServerThread::ServerThread(tls::TlsContext& ctx)
    : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  auto handler = [this](tls::TlsStream& s) -> asio::awaitable<void> {
    SeenConnection seen;
    seen.handshake = *s.handshake_info();
    auto d = co_await s.read();
    if (d && !d->bytes.empty()) {
      seen.data = std::string(as_string(d->bytes));
      seen.data_was_early = d->arrived_as_early_data;
      std::string reply = "echo:" + seen.data;
      (void)co_await s.write(as_bytes(reply));
    }
    {
      std::lock_guard lock(mu_);
      seen_.push_back(std::move(seen));
    }
    cv_.notify_all();
  };
  asio::co_spawn(io_, tls::serve(acceptor_, ctx, handler), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
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
