#include "tls/duplex.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

namespace armored::tls {

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto kNever = std::chrono::steady_clock::time_point::max();
}  // namespace

Duplex::Duplex(asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn, Clock& clock)
    : socket_(std::move(socket)), conn_(std::move(conn)), clock_(clock), wake_(socket_.get_executor()) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  wake_.expires_at(kNever);
}

void Duplex::start(EventHandler on_event) {
  on_event_ = std::move(on_event);
  if (!conn_->is_server()) {
    for (auto& e : conn_->start(clock_.now())) on_event_(e);
  }
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->writer(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->reader(); }, asio::detached);
}

void Duplex::wake() { wake_.cancel(); }

Result<void, TlsError> Duplex::write(ByteSpan bytes) {
  if (closed_) return unexpected(TlsError{Reason::kUnexpectedEof, "connection closed"});
  auto w = conn_->write(bytes);
  if (w) wake();
  return w;
}

std::size_t Duplex::write_some(ByteSpan bytes) {
  if (closed_) return 0;
  const std::size_t n = write_in_pieces(*conn_, bytes);
  if (n > 0) wake();
  return n;
}

void Duplex::close() {
  if (closed_) return;
  closed_ = true;
  if (conn_->is_open()) conn_->close();
  wake();
  // Unblock a pending read: the writer sends close_notify and closes the socket.
}

asio::awaitable<void> Duplex::writer() {
  for (;;) {
    if (conn_->has_output()) {
      Bytes out = conn_->take_output();
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out), kNoThrow);
      (void)n;
      if (ec) break;
      continue;
    }
    if (closed_) break;
    wake_.expires_at(kNever);
    co_await wake_.async_wait(kNoThrow);
  }
  closed_ = true;
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  writer_done_ = true;
}

asio::awaitable<void> Duplex::reader() {
  std::array<std::uint8_t, 16384> buf;
  while (!closed_) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) {
      if (!closed_) {
        Event e = Failed{TlsError{Reason::kUnexpectedEof, "transport: " + ec.message()}};
        on_event_(e);
      }
      break;
    }
    for (auto& e : conn_->feed(ByteSpan(buf.data(), n), clock_.now())) {
      on_event_(e);
      if (std::holds_alternative<Failed>(e) || std::holds_alternative<Closed>(e)) closed_ = true;
    }
    if (conn_->has_output() || closed_) wake();
  }
  closed_ = true;
  wake();
  reader_done_ = true;
}

asio::awaitable<void> Duplex::wait_finished() {
  asio::steady_timer t(socket_.get_executor());
  while (!reader_done_ || !writer_done_) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(kNoThrow);
  }
}

}  // namespace armored::tls
