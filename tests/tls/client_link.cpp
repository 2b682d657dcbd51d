#include "tls/client_link.h"

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <deque>

#include "common/log.h"
#include "tls/internal/tcp_connect.h"

namespace armored::testing {

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
using Steady = std::chrono::steady_clock;
}  // namespace

// Shared with the Duplex's event handler, which may outlive the ClientLink.
struct ClientLink::State {
  explicit State(const asio::any_io_executor& ex) : progress(ex) {}
  std::shared_ptr<tls::Duplex> duplex;
  asio::steady_timer progress;  // cancelled on every event
  std::optional<tls::HandshakeComplete> handshake;
  std::deque<tls::ApplicationData> inbox;
  std::vector<tls::NewSessionTicket> tickets;
  std::optional<tls::TlsError> error;
  bool peer_closed = false;

  bool ended() const { return error.has_value() || peer_closed; }
  void on_event(tls::Event& e) {
    if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) handshake = std::move(*hc);
    if (auto* d = std::get_if<tls::ApplicationData>(&e)) inbox.push_back(std::move(*d));
    if (auto* t = std::get_if<tls::NewSessionTicket>(&e)) tickets.push_back(std::move(*t));
    if (std::holds_alternative<tls::Closed>(e)) peer_closed = true;
    if (auto* f = std::get_if<tls::Failed>(&e)) {
      if (!handshake && duplex->connection().is_open()) {
        // The transport ended the handshake, not TLS: count it as such.
        duplex->connection().abort(f->error);
      }
      error = f->error;
    }
    progress.cancel();
  }
  // Until the next event or `deadline`.
  asio::awaitable<void> next_event(Steady::time_point deadline) {
    progress.expires_at(deadline);
    co_await progress.async_wait(kNoThrow);
  }
};

ClientLink::ClientLink(std::shared_ptr<State> state) : st_(std::move(state)) {}

ClientLink::~ClientLink() {
  if (st_->duplex) st_->duplex->close();
}

asio::awaitable<Result<std::unique_ptr<ClientLink>, tls::TlsError>> ClientLink::handshake(
    asio::ip::tcp::socket socket, tls::TlsContext& ctx, const tls::ClientOptions& options,
    std::chrono::milliseconds timeout) {
  auto conn = tls::Connection::client(ctx, options);
  if (!conn) co_return unexpected(tls::TlsError{tls::Reason::kConfig, conn.error().message});
  auto st = std::make_shared<State>(socket.get_executor());
  st->duplex = std::make_shared<tls::Duplex>(std::move(socket), std::move(*conn), ctx.clock());
  st->duplex->set_handshake_timeout(timeout);
  std::weak_ptr<State> weak = st;
  st->duplex->start([weak](tls::Event& e) {
    if (auto s = weak.lock()) s->on_event(e);
  });
  while (!st->handshake && !st->ended()) co_await st->next_event(Steady::time_point::max());
  if (!st->handshake) {
    auto e = st->error.value_or(tls::TlsError{tls::Reason::kInternal, "handshake stopped"});
    co_return unexpected(std::move(e));
  }
  co_return std::unique_ptr<ClientLink>(new ClientLink(std::move(st)));
}

asio::awaitable<Result<std::unique_ptr<ClientLink>, tls::TlsError>> ClientLink::connect(tls::TlsContext& ctx,
                                                                                        ConnectOptions opts) {
  asio::ip::tcp::socket sock(co_await asio::this_coro::executor);
  if (auto e = co_await tls::tcp_connect(sock, opts.host, opts.port)) {
    co_return unexpected(tls::TlsError{tls::Reason::kUnexpectedEof,
                                       (e.resolving ? "resolve " : "connect ") + opts.host + ": " + e.code.message()});
  }
  tls::ClientOptions co;
  co.server_name = opts.host;
  co.early_data = opts.early_data;
  if (opts.sessions) co.session = opts.sessions->load(opts.host, opts.port);
  auto link = co_await handshake(std::move(sock), ctx, co, opts.handshake_timeout);
  if (!link) {
    // A ticket the server would not take is not worth another try.
    if (opts.sessions && co.session) opts.sessions->forget(opts.host, opts.port);
    co_return unexpected(link.error());
  }
  (*link)->save_tickets(opts.sessions, opts.host, opts.port);
  co_return link;
}

const tls::HandshakeComplete& ClientLink::handshake_info() const { return *st_->handshake; }

Result<void, tls::TlsError> ClientLink::write(ByteSpan bytes) {
  if (st_->error) return unexpected(*st_->error);
  return st_->duplex->write(bytes);
}

asio::awaitable<Result<tls::ApplicationData, tls::TlsError>> ClientLink::read() {
  while (st_->inbox.empty() && !st_->ended()) co_await st_->next_event(Steady::time_point::max());
  if (!st_->inbox.empty()) {
    tls::ApplicationData d = std::move(st_->inbox.front());
    st_->inbox.pop_front();
    co_return d;
  }
  if (st_->peer_closed || st_->error->reason == tls::Reason::kUnexpectedEof) co_return tls::ApplicationData{};
  co_return unexpected(*st_->error);
}

asio::awaitable<bool> ClientLink::wait_for_ticket(std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (st_->tickets.empty() && !st_->ended() && Steady::now() < deadline) co_await st_->next_event(deadline);
  co_return !st_->tickets.empty();
}

std::vector<tls::NewSessionTicket> ClientLink::take_tickets() { return std::exchange(st_->tickets, {}); }

void ClientLink::save_tickets(tls::SessionStore* sessions, const std::string& host, std::uint16_t port) {
  auto tickets = take_tickets();
  if (sessions == nullptr || tickets.empty()) return;
  // The newest ticket replaces the entry; one per server is enough.
  if (auto s = sessions->save(host, port, tickets.back()); !s) {
    spdlog::warn("tls: cannot save session ticket: {}", s.error().message);
  }
}

asio::awaitable<void> ClientLink::close() {
  st_->duplex->close();
  co_await st_->duplex->wait_finished();
}

}  // namespace armored::testing
