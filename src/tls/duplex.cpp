#include "tls/duplex.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>

namespace armored::tls {

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto kNever = std::chrono::steady_clock::time_point::max();

bool ends_connection(const Event& e) { return std::holds_alternative<Failed>(e) || std::holds_alternative<Closed>(e); }
}  // namespace

Duplex::Duplex(asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn, Clock& clock)
    : socket_(std::move(socket)),
      conn_(std::move(conn)),
      clock_(clock),
      wake_(socket_.get_executor()),
      deadline_(socket_.get_executor()),
      finished_(socket_.get_executor()) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  wake_.expires_at(kNever);
  deadline_.expires_at(kNever);
  finished_.expires_at(kNever);
}

void Duplex::set_handshake_timeout(Clock::Duration timeout) { handshake_timeout_ = timeout; }

void Duplex::set_owner_timer(DeadlineSource next, TimerHandler on_due) {
  owner_next_ = std::move(next);
  owner_due_ = std::move(on_due);
}

void Duplex::start(EventHandler on_event) {
  on_event_ = std::move(on_event);
  if (handshake_timeout_) conn_->set_handshake_deadline(clock_.monotonic() + *handshake_timeout_);
  if (!conn_->is_server()) {
    auto events = conn_->start(clock_.now());
    deliver(events);
  }
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->writer(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->reader(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->timer(); }, asio::detached);
}

void Duplex::wake() { wake_.cancel(); }

// Hands events to the owner in order; Failed and Closed end the connection.
void Duplex::deliver(std::vector<Event>& events) {
  for (auto& e : events) {
    on_event_(e);
    if (ends_connection(e)) closed_ = true;
  }
}

Result<void, TlsError> Duplex::write(ByteSpan bytes) {
  if (closed_) return unexpected(TlsError{Reason::kUnexpectedEof, "connection closed"});
  auto w = conn_->write(bytes);
  if (w) {
    wake();
    rearm_if_earlier();
  }
  return w;
}

std::size_t Duplex::write_some(ByteSpan bytes) {
  if (closed_) return 0;
  const std::size_t n = write_in_pieces(*conn_, bytes);
  if (n > 0) {
    wake();
    rearm_if_earlier();
  }
  return n;
}

void Duplex::close() {
  if (closed_) return;
  closed_ = true;
  if (conn_->is_open()) conn_->close();
  wake();
  // The writer sends close_notify and what is queued, then closes the
  // socket, which ends a pending read.
}

std::size_t Duplex::queued_output() const { return conn_->output_size() + in_flight_; }

std::optional<Clock::Duration> Duplex::earliest_deadline() const {
  std::optional<Clock::Duration> dl = conn_->next_deadline();
  if (owner_next_) {
    if (auto o = owner_next_(); o && (!dl || *o < *dl)) dl = o;
  }
  return dl;
}

void Duplex::reschedule() {
  if (!closed_ && !timer_done_) deadline_.cancel();
}

void Duplex::rearm_if_earlier() {
  if (closed_ || timer_done_) return;
  auto dl = earliest_deadline();
  // Later than what the timer waits for: it re-reads the deadlines when it
  // fires, so only an earlier one needs to wake it.
  if (dl && (!armed_for_ || *dl < *armed_for_)) deadline_.cancel();
}

asio::awaitable<void> Duplex::timer() {
  while (!closed_) {
    armed_for_ = earliest_deadline();
    if (armed_for_) {
      deadline_.expires_after(std::max(*armed_for_ - clock_.monotonic(), Clock::Duration::zero()));
    } else {
      deadline_.expires_at(kNever);
    }
    co_await deadline_.async_wait(kNoThrow);
    armed_for_.reset();
    if (closed_) break;
    const Clock::Duration now = clock_.monotonic();
    auto events = conn_->on_timer(now);
    deliver(events);
    if (!closed_ && owner_due_ && owner_next_) {
      if (auto o = owner_next_(); o && *o <= now) owner_due_(now);
    }
    if (conn_->has_output() || closed_) wake();
  }
  timer_done_ = true;
  finish_one();
}

asio::awaitable<void> Duplex::writer() {
  for (;;) {
    if (conn_->has_output()) {
      Bytes out = conn_->take_output();
      in_flight_ = out.size();
      auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out), kNoThrow);
      (void)n;
      in_flight_ = 0;
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
  deadline_.cancel();  // the timer ends with the connection
  writer_done_ = true;
  finish_one();
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
    auto events = conn_->feed(ByteSpan(buf.data(), n), clock_.now());
    deliver(events);
    if (conn_->has_output() || closed_) wake();
    rearm_if_earlier();
  }
  closed_ = true;
  wake();
  reader_done_ = true;
  finish_one();
}

void Duplex::finish_one() {
  if (reader_done_ && writer_done_ && timer_done_) finished_.cancel();
}

asio::awaitable<void> Duplex::wait_finished() {
  while (!reader_done_ || !writer_done_ || !timer_done_) {
    co_await finished_.async_wait(kNoThrow);
  }
}

}  // namespace armored::tls
