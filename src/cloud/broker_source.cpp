#include "cloud/broker_source.h"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <deque>
#include <map>
#include <optional>

#include "common/backoff.h"
#include "common/log.h"
#include "common/rng.h"
#include "mqtt/client_session.h"
#include "receipt/receipt.h"
#include "tls/context.h"
#include "tls/duplex.h"
#include "tls/session_store.h"
#include "topics/topics.h"

namespace armored::cloud {
using asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

std::int64_t unix_ms(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

struct BrokerSource::Impl {
  Impl(const BrokerConfig& c, Deps d)
      : config(c), deps(std::move(d)), retry(deps.io), backoff(c.backoff_initial, c.backoff_max, rng),
        where(fmt::format("{}:{}", c.endpoint.host, c.endpoint.port)) {}

  BrokerConfig config;
  Deps deps;
  SystemRng rng;
  asio::steady_timer retry;
  Backoff backoff;
  std::string where;  // host:port, for logs and the audit trail
  std::unique_ptr<tls::TlsContext> tls_ctx;
  std::unique_ptr<tls::SessionStore> sessions;

  std::shared_ptr<tls::Duplex> link;
  std::optional<mqtt::ClientSession> mqtt;
  // Packet ids belong to one connection: a commit that completes after a
  // reconnect must not acknowledge the new connection's packet of that id.
  std::uint64_t connection_generation = 0;
  std::size_t storing = 0;  // PUBLISHes handed to storage, not yet completed
  // The resolve or TCP connect under way, cancelled by stop() so an
  // unreachable broker cannot hold up shutdown.
  tcp::resolver* resolving = nullptr;
  tcp::socket* connecting = nullptr;
  bool stopping = false;
  bool finished = false;
  BrokerSourceStatus counters;
  // Batch ids durable but not yet in a published receipt, per gateway id.
  std::map<std::string, std::deque<receipt::BatchId>, std::less<>> unreceipted;
  // A gateway that never subscribes must not grow this without bound: the
  // oldest ids go (counted); that gateway re-sends them and gets a receipt then.
  static constexpr std::size_t kMaxUnreceiptedPerGateway = 8 * receipt::kMaxBatchIds;

  mqtt::Time mnow() const { return std::chrono::duration_cast<mqtt::Time>(deps.clock.monotonic()); }
  std::string server_name() const {
    return config.server_name.empty() ? config.endpoint.host : config.server_name;
  }

  asio::awaitable<void> connect_loop();
  asio::awaitable<void> timer_loop(std::shared_ptr<tls::Duplex> d, std::uint64_t generation);
  asio::awaitable<void> close_when_stored();
  asio::awaitable<void> receipt_loop();
  // Publishes receipts for what is durable; what the session cannot take now
  // (window full, disconnected) waits for the next round.
  void publish_receipts();
  void on_link_event(tls::Event& e);
  void on_mqtt_events(std::span<const mqtt::ClientEvent> events);
  void on_publish(const mqtt::Publish& p);
  // Stores the job; once durable, marks `received` and acknowledges.
  // `receipt_for`: the gateway whose receipt names this PUBLISH once durable
  // (empty: none, e.g. a foreign topic).
  void submit(WriteJob job, std::vector<ReceivedKey> received, std::uint16_t packet_id, bool qos1,
              std::string receipt_for = {}, receipt::BatchId batch = {});
  void flush();
};

void BrokerSource::Impl::flush() {
  if (!link || !mqtt || link->closed()) return;
  auto out = mqtt->pending_output();
  if (out.empty()) return;
  if (std::size_t n = link->write_some(out); n > 0) mqtt->consume_output(n);
}

void BrokerSource::Impl::submit(WriteJob job, std::vector<ReceivedKey> received, std::uint16_t packet_id,
                                bool qos1, std::string receipt_for, receipt::BatchId batch) {
  ++storing;
  const std::uint64_t generation = connection_generation;
  job.done = [this, generation, packet_id, qos1, received = std::move(received), receipt_for = std::move(receipt_for),
              batch](bool durable) mutable {
    // Storage thread: hand the result back to the network thread.
    asio::post(deps.io, [this, generation, packet_id, qos1, durable, received = std::move(received),
                         receipt_for = std::move(receipt_for), batch] {
      --storing;
      // Not durable: given up at a stop during a storage outage. Not
      // acknowledged, not marked received: the broker redelivers it.
      if (!durable) return;
      deps.ingest.mark_stored(received);
      // Durable, whether stored, a copy or rejected: the gateway may forget it.
      if (!receipt_for.empty() && deps.receipt_key) {
        auto& q = unreceipted[receipt_for];
        q.push_back(batch);
        if (q.size() > kMaxUnreceiptedPerGateway) {
          q.pop_front();
          ++counters.receipts_dropped;
        }
      }
      if (!qos1 || !mqtt || generation != connection_generation) return;
      if (!mqtt->acknowledge(packet_id)) return;  // session gone: the broker redelivers
      ++counters.acknowledged;
      flush();
    });
  };
  deps.writer.submit(std::move(job));
}

void BrokerSource::Impl::on_publish(const mqtt::Publish& p) {
  // Stopping: take nothing new; the broker keeps it for the next session.
  if (stopping) return;
  ++counters.messages;
  const bool qos1 = p.qos == mqtt::QoS::kAtLeastOnce;
  WriteJob job;
  auto owner = topics::uplink_owner(p.topic);
  if (!owner) {
    // Our subscription cannot match this: a broker bug or a misconfiguration.
    // Recorded and acknowledged (redelivery would not change it), never opened.
    ++counters.foreign_topics;
    job.events.push_back({unix_ms(deps.clock.now()), store::EventKind::kAclDenied,
                          "broker delivered a topic outside armored/v1/<id>/up", "broker " + where,
                          fmt::format("topic '{}' ({} bytes)", p.topic.substr(0, 200), p.payload.size())});
    submit(std::move(job), {}, p.packet_id, qos1);
    return;
  }
  // The <id> is the broker's claim, not an identity: the E3 key ID decides
  // whose reading it is. The claim and the broker are what the audit shows.
  const std::string peer = fmt::format("{} via broker {}", *owner, where);
  // A retained message is an old copy the broker hands every new
  // subscription: like DUP, it only labels what turns out to be a duplicate.
  PreparedUplink prepared = deps.ingest.prepare(peer, p.payload, p.dup || p.retain);
  job.rows = std::move(prepared.rows);
  job.events = std::move(prepared.events);
  if (prepared.opener_changed) {
    if (deps.state_file) {
      job.e3_state = deps.state_file->capture(deps.opener, prepared.changed_kids);
    } else {
      job.e3_state.push_back({std::make_shared<const Bytes>(deps.opener.serialize()), 0, true});
    }
  }
  std::string gateway = config.receipts && owner->size() <= receipt::kMaxGatewayId ? std::string(*owner) : "";
  submit(std::move(job), std::move(prepared.received), p.packet_id, qos1, std::move(gateway),
         receipt::batch_id(p.payload));
}

void BrokerSource::Impl::publish_receipts() {
  if (!deps.receipt_key || !mqtt || mqtt->state() != mqtt::ClientState::kConnected) return;
  for (auto it = unreceipted.begin(); it != unreceipted.end();) {
    auto& q = it->second;
    while (!q.empty()) {
      receipt::Receipt r;
      r.gateway = it->first;
      r.issued_at_ms = static_cast<std::uint64_t>(unix_ms(deps.clock.now()));
      const std::size_t n = std::min(q.size(), receipt::kMaxBatchIds);
      r.batches.assign(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(n));
      auto sealed = receipt::seal(r, *deps.receipt_key);
      if (!sealed) {
        spdlog::error("cloud: cannot sign a receipt for {}: {}", it->first, receipt::to_string(sealed.error()));
        return;
      }
      // QoS 1: a receipt lost anyway only costs the gateway a re-send.
      if (!mqtt->publish(topics::receipts_topic(it->first), *sealed, mqtt::QoS::kAtLeastOnce, false, mnow())) {
        flush();
        return;  // window full: the rest waits for the next round
      }
      q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(n));
      ++counters.receipts;
      counters.receipted_batches += n;
    }
    it = unreceipted.erase(it);
  }
  flush();
}

asio::awaitable<void> BrokerSource::Impl::receipt_loop() {
  asio::steady_timer t(deps.io);
  while (!finished) {
    t.expires_after(config.receipt_interval);
    co_await t.async_wait(kNoThrow);
    publish_receipts();
  }
}

void BrokerSource::Impl::on_mqtt_events(std::span<const mqtt::ClientEvent> events) {
  using K = mqtt::ClientEvent::Kind;
  for (const auto& ev : events) {
    switch (ev.kind) {
      case K::kConnected: {
        counters.connected = true;
        counters.session_resumed = ev.session_present;
        ++counters.connects;
        backoff.reset();
        spdlog::info("cloud: broker source connected to {} as '{}' (session {})", where, config.client_id,
                     ev.session_present ? "resumed, queued uplinks follow" : "new");
        // Subscribing again on a kept session is harmless and repairs a
        // session the broker lost.
        mqtt::TopicRequest t{topics::kEveryUplink, mqtt::QoS::kAtLeastOnce};
        (void)mqtt->subscribe(std::span<const mqtt::TopicRequest>(&t, 1), mnow());
        break;
      }
      case K::kSubscribed:
        for (auto code : ev.codes) {
          if (code == mqtt::SubAckCode::kFailure) {
            spdlog::error("cloud: broker {} refused the subscription to {} (check the broker's ACL for "
                          "client '{}')",
                          where, topics::kEveryUplink, config.client_id);
          }
        }
        break;
      case K::kMessage:
        on_publish(ev.message);
        break;
      case K::kClosed:
        if (ev.error) {
          if (ev.error->code == mqtt::ErrorCode::kConnectionRefused) {
            spdlog::error("cloud: broker {} refused CONNECT (return code {})", where,
                          static_cast<int>(ev.connack_code));
            ++counters.connect_failures;
          } else {
            spdlog::warn("cloud: broker session closed: {}", ev.error->message);
          }
        }
        counters.connected = false;
        if (link) link->close();
        break;
      default:
        break;
    }
  }
  flush();
}

void BrokerSource::Impl::on_link_event(tls::Event& e) {
  if (auto* t = std::get_if<tls::NewSessionTicket>(&e)) {
    if (auto s = sessions->save(server_name(), config.endpoint.port, *t); !s) {
      spdlog::warn("cloud: cannot save the broker's session ticket: {}", s.error().message);
    }
  } else if (auto* ad = std::get_if<tls::ApplicationData>(&e)) {
    if (mqtt) on_mqtt_events(mqtt->receive(ad->bytes, mnow()));
  } else if (auto* f = std::get_if<tls::Failed>(&e)) {
    if (!link || !link->connection().handshake_done()) {
      ++counters.connect_failures;
      // One clear line: which broker, and why it was refused.
      spdlog::error("cloud: broker {} refused: TLS handshake failed: {} ({})", where,
                    tls::reason_name(f->error.reason), f->error.message);
      sessions->forget(server_name(), config.endpoint.port);
    } else {
      spdlog::warn("cloud: link to broker {} failed: {} ({})", where, tls::reason_name(f->error.reason),
                   f->error.message);
    }
    counters.connected = false;
    if (mqtt) mqtt->transport_closed();
  } else if (std::get_if<tls::Closed>(&e)) {
    counters.connected = false;
    if (mqtt) mqtt->transport_closed();
  }
}

asio::awaitable<void> BrokerSource::Impl::timer_loop(std::shared_ptr<tls::Duplex> d, std::uint64_t generation) {
  asio::steady_timer t(deps.io);
  while (!d->closed()) {
    t.expires_after(std::chrono::milliseconds(200));
    co_await t.async_wait(kNoThrow);
    if (d->closed() || !mqtt || generation != connection_generation) break;
    auto dl = mqtt->next_deadline();
    if (dl && *dl <= mnow()) on_mqtt_events(mqtt->on_timer(mnow()));
  }
}

asio::awaitable<void> BrokerSource::Impl::connect_loop() {
  while (!stopping) {
    tcp::resolver resolver(deps.io);
    resolving = &resolver;
    auto [rec, endpoints] =
        co_await resolver.async_resolve(config.endpoint.host, std::to_string(config.endpoint.port), kNoThrow);
    resolving = nullptr;
    tcp::socket sock(deps.io);
    bool ok = !rec && !stopping;
    if (ok) {
      connecting = &sock;
      auto [cec, ep] = co_await asio::async_connect(sock, endpoints, kNoThrow);
      connecting = nullptr;
      (void)ep;
      ok = !cec;
      if (!ok) spdlog::warn("cloud: cannot reach broker {}: {}", where, cec.message());
    } else if (rec) {
      spdlog::warn("cloud: cannot resolve broker host {}: {}", config.endpoint.host, rec.message());
    }
    if (ok && !stopping) {
      mqtt::ClientOptions mo;
      mo.client_id = config.client_id;
      mo.clean_session = false;  // the broker queues uplinks while we are away
      mo.keep_alive_s = config.keep_alive_s;
      mo.deferred_acks = true;   // PUBACK only once durable
      mo.max_pending_acks = config.max_unacknowledged;
      mqtt.emplace(std::move(mo));
      ++connection_generation;
      (void)mqtt->connect(mnow());
      tls::ClientOptions co;
      co.server_name = server_name();
      // No early data: CONNECT and SUBSCRIBE are not replay-safe.
      co.session = sessions->load(server_name(), config.endpoint.port);
      auto conn = tls::Connection::client(*tls_ctx, co);
      if (conn) {
        link = std::make_shared<tls::Duplex>(std::move(sock), std::move(*conn), deps.clock);
        link->start([this](tls::Event& e) { on_link_event(e); });
        flush();  // CONNECT, sent once the handshake completes
        asio::co_spawn(deps.io, timer_loop(link, connection_generation), asio::detached);
        co_await link->wait_finished();
        link.reset();
        counters.connected = false;
      } else {
        spdlog::error("cloud: broker TLS: {}", conn.error().message);
        ++counters.connect_failures;
      }
    } else if (!ok) {
      ++counters.connect_failures;
    }
    if (stopping) break;
    auto delay = backoff.next();
    spdlog::info("cloud: reconnecting to broker {} in {} ms", where, delay.count());
    retry.expires_after(delay);
    co_await retry.async_wait(kNoThrow);
  }
  finished = true;
}

asio::awaitable<void> BrokerSource::Impl::close_when_stored() {
  // Let the commits under way finish and send their PUBACKs, so the broker
  // does not redeliver what is already stored.
  asio::steady_timer t(deps.io);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (storing > 0 && std::chrono::steady_clock::now() < give_up) {
    t.expires_after(std::chrono::milliseconds(10));
    co_await t.async_wait(kNoThrow);
  }
  publish_receipts();  // spares the gateways a re-send of what just became durable
  if (mqtt && mqtt->state() == mqtt::ClientState::kConnected) {
    (void)mqtt->disconnect(mnow());  // clean session off: the broker keeps our session
    flush();
  }
  if (link) link->close();
}

BrokerSource::BrokerSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BrokerSource::~BrokerSource() = default;

Expected<std::unique_ptr<BrokerSource>> BrokerSource::create(const BrokerConfig& config, Deps deps) {
  if (config.url.empty()) {
    return fail("[broker] has no url and --broker was not given (mqtts://host:8883)");
  }
  auto impl = std::make_unique<Impl>(config, std::move(deps));
  auto ctx = tls::TlsContext::create(config.tls, impl->deps.clock);
  if (!ctx) return fail("broker TLS: " + ctx.error().message);
  impl->tls_ctx = std::move(*ctx);
  std::error_code ec;
  std::filesystem::create_directories(config.ticket_dir, ec);
  if (ec) return fail("cannot create " + config.ticket_dir.string() + ": " + ec.message());
  std::filesystem::permissions(config.ticket_dir, std::filesystem::perms::owner_all, ec);
  impl->sessions = std::make_unique<tls::SessionStore>(config.ticket_dir, impl->deps.clock, config.ticket_max_age);
  return std::unique_ptr<BrokerSource>(new BrokerSource(std::move(impl)));
}

void BrokerSource::start() {
  auto& i = *impl_;
  spdlog::info("cloud: broker source {} as '{}', subscribing to {}", i.config.url, i.config.client_id,
               topics::kEveryUplink);
  asio::co_spawn(i.deps.io, i.connect_loop(), asio::detached);
  if (i.deps.receipt_key && i.config.receipts) asio::co_spawn(i.deps.io, i.receipt_loop(), asio::detached);
}

void BrokerSource::stop() {
  auto& i = *impl_;
  if (i.stopping) return;
  i.stopping = true;
  i.retry.cancel();
  if (i.resolving) i.resolving->cancel();
  if (i.connecting) {
    asio::error_code ec;
    i.connecting->close(ec);
  }
  asio::co_spawn(i.deps.io, i.close_when_stored(), asio::detached);
}

BrokerSourceStatus BrokerSource::status() const { return impl_->counters; }

}  // namespace armored::cloud
