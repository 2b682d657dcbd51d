#include "dashboard/server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "tls/context.h"
#include "tls/duplex.h"

namespace armored::dashboard {

using asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// One browser connection: its driver, what it sent that is not a whole
// request yet, and when it goes idle.
struct Client {
  std::shared_ptr<tls::Duplex> link;
  std::string buffered;
  Clock::Duration idle_at{};
  bool closing = false;
};
}  // namespace

struct Server::Impl {
  ServerOptions options;
  Source& source;
  Clock& clock;
  Dashboard dashboard;
  ServerCounters counters;
  std::unique_ptr<tls::TlsContext> tls_ctx;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  // Open connections. Each Duplex's handler holds only a weak_ptr to its
  // Client, so nothing is kept alive by a cycle when the loop stops with
  // connections still open.
  std::set<std::shared_ptr<Client>> clients;

  Impl(ServerOptions o, Source& s, Clock& c) : options(std::move(o)), source(s), clock(c), dashboard(s, options.dashboard) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> sample_loop();
  void serve(tcp::socket sock);
  void on_data(const std::shared_ptr<Client>& c, ByteSpan bytes);
  void respond(const std::shared_ptr<Client>& c, const std::string& bytes, bool close_after);
};

asio::awaitable<void> Server::Impl::sample_loop() {
  asio::steady_timer t(io);
  for (;;) {
    dashboard.sample(clock.now());
    t.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await t.async_wait(kNoThrow);
    if (ec) co_return;
  }
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    if (clients.size() >= options.max_connections) {
      ++counters.refused_connections;
      asio::error_code ignored;
      sock.close(ignored);
      continue;
    }
    serve(std::move(sock));
  }
}

void Server::Impl::serve(tcp::socket sock) {
  auto conn = tls::Connection::server(*tls_ctx);
  if (!conn) return;
  auto c = std::make_shared<Client>();
  c->link = std::make_shared<tls::Duplex>(std::move(sock), std::move(*conn), clock);
  c->link->set_handshake_timeout(options.handshake_timeout);
  c->idle_at = clock.monotonic() + options.idle_timeout;
  clients.insert(c);
  ++counters.connections;
  std::weak_ptr<Client> weak = c;
  c->link->set_owner_timer([weak]() -> std::optional<Clock::Duration> {
        auto cl = weak.lock();
        return cl ? std::optional<Clock::Duration>(cl->idle_at) : std::nullopt;
      },
      [weak](Clock::Duration) {
        if (auto cl = weak.lock()) {
          cl->closing = true;
          cl->link->close();  // idle: a browser opens a new one when it needs it
        }
      });
  c->link->start([this, weak](tls::Event& e) {
    auto cl = weak.lock();
    if (!cl || !clients.contains(cl)) return;
    if (auto* d = std::get_if<tls::ApplicationData>(&e)) {
      on_data(cl, d->bytes);
    } else if (auto* f = std::get_if<tls::Failed>(&e)) {
      if (!cl->link->connection().handshake_done()) ++counters.handshake_failures;
      spdlog::debug("dashboard: {}: {}", cl->link->peer_address(), f->error.message);
    }
    if (std::holds_alternative<tls::Failed>(e) || std::holds_alternative<tls::Closed>(e)) clients.erase(cl);
  });
}

void Server::Impl::respond(const std::shared_ptr<Client>& c, const std::string& bytes, bool close_after) {
  const ByteSpan out(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (c->link->write_some(out) != out.size() || close_after) {
    c->closing = true;
    c->link->close();
  }
}

void Server::Impl::on_data(const std::shared_ptr<Client>& c, ByteSpan bytes) {
  if (c->closing) return;
  c->buffered.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  c->idle_at = clock.monotonic() + options.idle_timeout;
  // Pipelined requests are answered in order; a partial one waits.
  while (!c->closing) {
    const http::Parsed p = http::parse_request(c->buffered, options.limits);
    if (p.kind == http::Parsed::Kind::kIncomplete) break;
    if (p.kind == http::Parsed::Kind::kRefused) {
      ++counters.refused_requests[static_cast<std::size_t>(p.refusal)];
      http::Response r;
      r.status = http::refusal_status(p.refusal);
      r.body = std::string(http::refusal_name(p.refusal)) + "\n";
      respond(c, http::serialize(r, false), true);
      return;
    }
    c->buffered.erase(0, p.consumed);
    ++counters.requests;
    const http::Response r = dashboard.handle(p.request, c->link->peer_address(), clock.now());
    if (r.status == 401) ++counters.unauthorized;
    respond(c, http::serialize(r, p.request.keep_alive, p.request.method == "HEAD"), !p.request.keep_alive);
  }
  c->link->reschedule();
}

Expected<std::unique_ptr<Server>> Server::start(ServerOptions options, Source& source, Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), source, clock);
  auto ctx = tls::TlsContext::create(impl->options.tls, clock);
  if (!ctx) return fail("dashboard", ctx.error());
  impl->tls_ctx = std::move(*ctx);
  asio::error_code ec;
  const auto address = asio::ip::make_address(impl->options.listen.address, ec);
  if (ec) return fail("dashboard: bad address " + impl->options.listen.address);
  const tcp::endpoint ep(address, impl->options.listen.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("dashboard: cannot listen on " + impl->options.listen.endpoint() + ": " + ec.message());
  asio::co_spawn(impl->io, impl->accept_loop(), asio::detached);
  asio::co_spawn(impl->io, impl->sample_loop(), asio::detached);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }
const ServerCounters& Server::counters() const { return impl_->counters; }

}  // namespace armored::dashboard
