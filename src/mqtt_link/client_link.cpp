#include "mqtt_link/client_link.h"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

#include "common/log.h"
#include "tls/context.h"
#include "tls/duplex.h"
#include "tls/session_store.h"

namespace armored::mqtt_link {
using asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
// Of the early-data budget, room left for CONNECT and the PUBLISH headers.
constexpr std::size_t kEarlyDataReserve = 512;

LinkDown ended(LinkDown::Stage stage, std::string reason, bool resolving = false) {
  LinkDown d;
  d.stage = stage;
  d.reason = std::move(reason);
  d.resolving = resolving;
  return d;
}
}  // namespace

bool ConnectLimiter::try_take() {
  if (free_ == 0) return false;
  --free_;
  return true;
}

void ConnectLimiter::release() {
  if (waiting_.empty()) {
    ++free_;
    return;
  }
  Waiter* w = waiting_.front();
  waiting_.pop_front();
  w->granted = true;  // the slot passes straight to it
  w->timer->cancel();
}

void ConnectLimiter::withdraw(Waiter* w) {
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), w), waiting_.end());
  w->timer->cancel();
}

ClientLink::ClientLink(asio::io_context& io, tls::TlsContext& tls, Clock& clock, Rng& rng, LinkOptions options,
                       LinkHandler handler)
    : io_(io), tls_(tls), clock_(clock), options_(std::move(options)), handler_(std::move(handler)),
      backoff_(options_.backoff_initial, options_.backoff_max, rng),
      where_(options_.host + ":" + std::to_string(options_.port)), retry_(io) {}

ClientLink::~ClientLink() = default;

mqtt::Time ClientLink::now() const { return std::chrono::duration_cast<mqtt::Time>(clock_.monotonic()); }

void ClientLink::start() { asio::co_spawn(io_, run(), asio::detached); }

void ClientLink::stop_reconnecting() {
  if (stopping_) return;
  stopping_ = true;
  retry_.cancel();
  if (resolving_) resolving_->cancel();
  if (connecting_) {
    asio::error_code ec;
    connecting_->close(ec);
  }
  if (limiter_wait_) options_.limiter->withdraw(limiter_wait_);
}

void ClientLink::disconnect() {
  if (!duplex_) return;
  if (session_ && session_->state() == mqtt::ClientState::kConnected) {
    (void)session_->disconnect(now());
    flush();
  }
  duplex_->close();
}

void ClientLink::release_slot() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  options_.limiter->release();
}

asio::awaitable<void> ClientLink::run() {
  while (!stopping_) {
    if (options_.limiter && !options_.limiter->try_take()) {
      asio::steady_timer wait(io_, asio::steady_timer::time_point::max());
      ConnectLimiter::Waiter w{&wait};
      limiter_wait_ = &w;
      options_.limiter->waiting_.push_back(&w);
      co_await wait.async_wait(kNoThrow);
      limiter_wait_ = nullptr;
      if (!w.granted) break;  // withdrawn by stop_reconnecting()
    }
    holds_slot_ = options_.limiter != nullptr;
    if (stopping_) {
      release_slot();
      break;
    }
    LinkDown down = co_await connect_once();
    release_slot();
    if (!stopping_) down.retry_in = backoff_.next();
    down.endpoint = where_;
    if (!options_.alternates.empty() && down.stage != LinkDown::Stage::kSession) {
      target_ = (target_ + 1) % (options_.alternates.size() + 1);
      where_ = target_host() + ":" + std::to_string(target_port());
    }
    if (handler_.on_down) handler_.on_down(down);
    if (stopping_) break;
    retry_.expires_after(*down.retry_in);
    co_await retry_.async_wait(kNoThrow);
  }
  finished_ = true;
}

asio::awaitable<LinkDown> ClientLink::connect_once() {
  tcp::socket sock(io_);
  {
    tcp::resolver resolver(io_);
    resolving_ = &resolver;
    auto [rec, endpoints] = co_await resolver.async_resolve(target_host(), std::to_string(target_port()), kNoThrow);
    resolving_ = nullptr;
    if (rec) co_return ended(LinkDown::Stage::kTcp, rec.message(), true);
    if (stopping_) co_return ended(LinkDown::Stage::kTcp, "stopped");
    connecting_ = &sock;
    auto [cec, ep] = co_await asio::async_connect(sock, endpoints, kNoThrow);
    (void)ep;
    connecting_ = nullptr;
    if (cec) co_return ended(LinkDown::Stage::kTcp, cec.message());
    if (stopping_) co_return ended(LinkDown::Stage::kTcp, "stopped");
  }

  session_.emplace(options_.mqtt);
  ++generation_;
  connected_ = false;
  down_.reset();
  (void)session_->connect(now());
  tls::ClientOptions co;
  co.server_name = server_name();
  if (options_.tickets) co.session = options_.tickets->load(server_name(), options_.port);
  const std::size_t early_max = options_.early_data_max_bytes;
  const std::size_t early_budget = co.session && early_max > 0 ? early_max - std::min(early_max, kEarlyDataReserve) : 0;
  if (handler_.on_session) handler_.on_session(early_budget);
  if (early_budget > 0) {
    // CONNECT and what on_session queued go in the first flight.
    auto out = session_->pending_output();
    co.early_data.assign(out.begin(), out.end());
    session_->consume_output(out.size());
  }
  auto conn = tls::Connection::client(tls_, co);
  if (!conn) {
    session_->transport_closed();
    co_return ended(LinkDown::Stage::kTls, conn.error().message);
  }
  duplex_ = std::make_shared<tls::Duplex>(std::move(sock), std::move(*conn), clock_);
  duplex_->start([this](tls::Event& e) { on_tls_event(e); });
  auto timer = std::make_shared<asio::steady_timer>(io_);
  deadline_timer_ = timer.get();
  armed_for_ = mqtt::Time::max();
  flush();  // CONNECT, when it did not go as early data
  asio::co_spawn(io_, deadline_loop(timer, generation_), asio::detached);
  co_await duplex_->wait_finished();
  timer->cancel();
  deadline_timer_ = nullptr;
  duplex_.reset();
  connected_ = false;
  if (session_->state() != mqtt::ClientState::kClosed) session_->transport_closed();
  co_return down_ ? std::move(*down_) : ended(LinkDown::Stage::kSession, "connection closed");
}

asio::awaitable<void> ClientLink::deadline_loop(std::shared_ptr<asio::steady_timer> timer, std::uint64_t generation) {
  ++deadline_loops_;
  while (live(generation)) {
    const auto deadline = session_->next_deadline();
    armed_for_ = deadline.value_or(mqtt::Time::max());
    if (deadline) {
      timer->expires_after(std::max(mqtt::Time::zero(), *deadline - now()));
    } else {
      timer->expires_at(asio::steady_timer::time_point::max());
    }
    co_await timer->async_wait(kNoThrow);
    if (!live(generation)) break;
    // Woken early by flush() (an earlier deadline) or due: on_timer acts
    // only on what is due.
    if (const auto due = session_->next_deadline(); due && *due <= now()) deliver(session_->on_timer(now()));
  }
  --deadline_loops_;
}

bool ClientLink::live(std::uint64_t generation) const {
  return generation == generation_ && duplex_ && !duplex_->closed();
}

void ClientLink::flush() {
  if (!duplex_ || !session_ || duplex_->closed()) return;
  const auto out = session_->pending_output();
  // What TLS does not take now (before the handshake it holds at most
  // tls::Connection::kMaxPendingWrite) stays with the session; the flush
  // after HandshakeComplete sends it.
  if (!out.empty()) {
    if (std::size_t n = duplex_->write_some(out); n > 0) session_->consume_output(n);
  }
  // A packet just queued may bring the deadline forward (its PUBACK
  // timeout); a later deadline needs no wake-up, the timer re-arms when it fires.
  if (const auto deadline = session_->next_deadline(); deadline && *deadline < armed_for_ && deadline_timer_) {
    armed_for_ = *deadline;
    deadline_timer_->cancel();
  }
}

void ClientLink::note_down(LinkDown down) {
  if (!down_) down_ = std::move(down);
}

void ClientLink::on_tls_event(tls::Event& e) {
  if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) {
    if (handler_.on_handshake) handler_.on_handshake(*hc);
    flush();  // what did not fit before the handshake
  } else if (auto* t = std::get_if<tls::NewSessionTicket>(&e)) {
    if (!options_.tickets) return;
    if (auto s = options_.tickets->save(server_name(), options_.port, *t); !s) {
      spdlog::warn("{}: cannot save session ticket: {}", options_.log_name, s.error().message);
    }
  } else if (auto* ad = std::get_if<tls::ApplicationData>(&e)) {
    if (session_) deliver(session_->receive(ad->bytes, now()));
  } else if (auto* f = std::get_if<tls::Failed>(&e)) {
    const bool in_handshake = !duplex_ || !duplex_->connection().handshake_done();
    // A ticket the server would not take is not worth another try.
    if (in_handshake && options_.tickets) options_.tickets->forget(server_name(), options_.port);
    LinkDown d = ended(in_handshake ? LinkDown::Stage::kTls : LinkDown::Stage::kSession, f->error.message);
    d.tls_error = f->error;
    note_down(std::move(d));
    connected_ = false;
    if (session_) session_->transport_closed();
  } else if (std::get_if<tls::Closed>(&e)) {
    note_down(ended(LinkDown::Stage::kSession, "the peer closed the connection"));
    connected_ = false;
    if (session_) session_->transport_closed();
  }
}

void ClientLink::deliver(std::span<const mqtt::ClientEvent> events) {
  using K = mqtt::ClientEvent::Kind;
  bool closed = false;
  for (const auto& ev : events) {
    if (ev.kind == K::kConnected) {
      connected_ = true;
      backoff_.reset();
      release_slot();
    } else if (ev.kind == K::kClosed) {
      connected_ = false;
      closed = true;
      LinkDown d = ended(LinkDown::Stage::kSession,
                         ev.error ? std::string(ev.error->message) : std::string("disconnected"));
      d.mqtt_error = ev.error;
      note_down(std::move(d));
    }
  }
  if (handler_.on_events && !events.empty()) handler_.on_events(events);
  flush();  // what the events and the owner queued (PUBACKs, PINGREQ, DISCONNECT)
  if (closed && duplex_) duplex_->close();
}

}  // namespace armored::mqtt_link
