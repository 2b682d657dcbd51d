// Socket runners: the only code in src/tls that touches sockets. Each loop
// moves bytes between the TCP socket and the sans-I/O Connection.

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

#include "common/log.h"
#include "tls/asio_client.h"
#include "tls/asio_server.h"
#include "tls/tcp_connect.h"

namespace armored::tls {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

TlsError transport_error(const asio::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset) {
    return TlsError{Reason::kUnexpectedEof, "connection closed by peer: " + ec.message()};
  }
  return TlsError{Reason::kUnexpectedEof, "transport: " + ec.message()};
}

}  // namespace

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn)
    : socket_(std::move(socket)), conn_(std::move(conn)) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

std::optional<TlsError> TlsStream::absorb(std::vector<Event> events) {
  for (auto& e : events) {
    if (auto* hc = std::get_if<HandshakeComplete>(&e)) {
      handshake_ = std::move(*hc);
    } else if (auto* ad = std::get_if<ApplicationData>(&e)) {
      inbox_.push_back(std::move(*ad));
    } else if (auto* t = std::get_if<NewSessionTicket>(&e)) {
      tickets_.push_back(std::move(*t));
    } else if (std::get_if<Closed>(&e)) {
      peer_closed_ = true;
    } else if (auto* f = std::get_if<Failed>(&e)) {
      if (!error_) error_ = f->error;
    }
  }
  return error_;
}

asio::awaitable<Result<void, TlsError>> TlsStream::flush() {
  Bytes out = conn_->take_output();
  if (out.empty()) co_return Result<void, TlsError>{};
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out), kNoThrow);
  (void)n;
  if (ec) co_return unexpected(transport_error(ec));
  co_return Result<void, TlsError>{};
}

asio::awaitable<Result<void, TlsError>> TlsStream::receive_once() {
  std::array<std::uint8_t, 16384> buf;
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kNoThrow);
  if (ec) {
    if (ec == asio::error::eof) peer_closed_ = true;
    if (!error_) error_ = transport_error(ec);
    co_return unexpected(*error_);
  }
  absorb(conn_->feed(ByteSpan(buf.data(), n), conn_->clock().now()));
  // Alerts go out even when the connection just failed.
  auto sent = co_await flush();
  if (error_) co_return unexpected(*error_);
  if (!sent) co_return unexpected(sent.error());
  co_return Result<void, TlsError>{};
}

asio::awaitable<Result<HandshakeComplete, TlsError>> TlsStream::handshake(std::chrono::milliseconds timeout) {
  asio::steady_timer timer(socket_.get_executor());
  timer.expires_after(timeout);
  bool timed_out = false;
  timer.async_wait([this, &timed_out](const asio::error_code& ec) {
    if (!ec) {
      timed_out = true;
      asio::error_code ignored;
      socket_.close(ignored);
    }
  });
  absorb(conn_->start(conn_->clock().now()));
  auto sent = co_await flush();
  while (sent && !handshake_ && !error_) {
    sent = co_await receive_once();
  }
  timer.cancel();
  if (!handshake_ && conn_->is_open()) {
    // The transport ended the handshake, not TLS: count it as such.
    TlsError e = timed_out ? TlsError{Reason::kTimeout, "handshake did not finish in time"}
                           : error_.value_or(sent ? TlsError{Reason::kInternal, "handshake stopped"} : sent.error());
    conn_->abort(e);
    error_ = e;
  }
  if (error_) co_return unexpected(*error_);
  if (!sent) co_return unexpected(sent.error());
  co_return *handshake_;
}

asio::awaitable<Result<ApplicationData, TlsError>> TlsStream::read() {
  while (inbox_.empty() && !peer_closed_ && !error_) {
    auto r = co_await receive_once();
    if (!r && inbox_.empty()) break;
  }
  if (!inbox_.empty()) {
    ApplicationData d = std::move(inbox_.front());
    inbox_.pop_front();
    co_return d;
  }
  if (peer_closed_ && (!error_ || error_->reason == Reason::kUnexpectedEof)) co_return ApplicationData{};
  co_return unexpected(error_.value_or(TlsError{Reason::kInternal, "read failed"}));
}

asio::awaitable<Result<void, TlsError>> TlsStream::write(ByteSpan bytes) {
  if (error_) co_return unexpected(*error_);
  auto w = conn_->write(bytes);
  if (!w) co_return unexpected(w.error());
  co_return co_await flush();
}

asio::awaitable<bool> TlsStream::wait_for_ticket(std::chrono::milliseconds timeout) {
  if (!tickets_.empty()) co_return true;
  asio::steady_timer timer(socket_.get_executor());
  timer.expires_after(timeout);
  bool expired = false;
  timer.async_wait([this, &expired](const asio::error_code& ec) {
    if (!ec) {
      expired = true;
      asio::error_code ignored;
      socket_.cancel(ignored);
    }
  });
  while (tickets_.empty() && !expired && !error_ && !peer_closed_) {
    auto r = co_await receive_once();
    if (!r) break;
  }
  timer.cancel();
  if (expired && error_ && error_->reason == Reason::kUnexpectedEof) error_.reset();
  co_return !tickets_.empty();
}

asio::awaitable<void> TlsStream::close() {
  conn_->close();
  (void)co_await flush();  // best effort: the peer may be gone
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  socket_.close(ec);
}

std::vector<NewSessionTicket> TlsStream::take_tickets() { return std::exchange(tickets_, {}); }

void save_tickets(TlsStream& stream, SessionStore* sessions, const std::string& host,
                  std::uint16_t port, Clock::TimePoint /*now*/) {
  auto tickets = stream.take_tickets();
  if (sessions == nullptr || tickets.empty()) return;
  // The newest ticket replaces the entry; one per server is enough.
  if (auto s = sessions->save(host, port, tickets.back()); !s) {
    spdlog::warn("tls: cannot save session ticket: {}", s.error().message);
  }
}

asio::awaitable<Result<std::unique_ptr<TlsStream>, TlsError>> tls_connect(TlsContext& ctx,
                                                                          ConnectOptions opts) {
  asio::ip::tcp::socket sock(co_await asio::this_coro::executor);
  if (auto e = co_await tcp_connect(sock, opts.host, opts.port)) {
    co_return unexpected(
        TlsError{Reason::kUnexpectedEof, (e.resolving ? "resolve " : "connect ") + opts.host + ": " + e.code.message()});
  }
  ClientOptions co;
  co.server_name = opts.host;
  co.early_data = opts.early_data;
  if (opts.sessions) co.session = opts.sessions->load(opts.host, opts.port);
  auto conn = Connection::client(ctx, co);
  if (!conn) co_return unexpected(TlsError{Reason::kConfig, conn.error().message});
  auto stream = std::make_unique<TlsStream>(std::move(sock), std::move(*conn));
  auto hs = co_await stream->handshake(opts.handshake_timeout);
  if (!hs) {
    // A ticket the server would not take is not worth another try.
    if (opts.sessions && co.session) opts.sessions->forget(opts.host, opts.port);
    co_return unexpected(hs.error());
  }
  save_tickets(*stream, opts.sessions, opts.host, opts.port, ctx.clock().now());
  co_return stream;
}

namespace {

asio::awaitable<void> run_one(asio::ip::tcp::socket sock, TlsContext& ctx, ConnectionHandler handler,
                              std::chrono::milliseconds timeout) {
  auto conn = Connection::server(ctx);
  if (!conn) {
    spdlog::error("tls: cannot create server connection: {}", conn.error().message);
    co_return;
  }
  TlsStream stream(std::move(sock), std::move(*conn));
  auto hs = co_await stream.handshake(timeout);
  if (!hs) {
    spdlog::info("tls: handshake refused: {} ({})", reason_name(hs.error().reason), hs.error().message);
    co_return;
  }
  try {
    co_await handler(stream);
  } catch (const std::exception& e) {
    // One connection's application error must not take the server down.
    spdlog::error("tls: handler for {} failed: {}", hs->peer.uri, e.what());
  }
  if (stream.socket().is_open()) co_await stream.close();
}

}  // namespace

asio::awaitable<void> serve(asio::ip::tcp::acceptor& acceptor, TlsContext& ctx, ConnectionHandler handler,
                            ServeOptions opts) {
  std::size_t accepted = 0;
  while (acceptor.is_open() && (opts.max_connections == 0 || accepted < opts.max_connections)) {
    auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      continue;
    }
    ++accepted;
    asio::co_spawn(acceptor.get_executor(), run_one(std::move(sock), ctx, handler, opts.handshake_timeout),
                   asio::detached);
  }
}

}  // namespace armored::tls
