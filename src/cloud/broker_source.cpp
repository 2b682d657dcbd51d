#include "cloud/internal/broker_source.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <deque>
#include <map>
#include <optional>

#include "cloud/command_service.h"
#include "common/log.h"
#include "common/rng.h"
#include "mqtt/client_session.h"
#include "mqtt_link/client_link.h"
#include "receipt/receipt.h"
#include "tls/context.h"
#include "tls/session_store.h"
#include "topics/topics.h"

namespace armored::cloud {

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

struct BrokerSource::Impl {
  Impl(const BrokerConfig& c, Deps d)
      : config(c), deps(std::move(d)), where(fmt::format("{}:{}", c.endpoint.host, c.endpoint.port)) {}

  BrokerConfig config;
  Deps deps;
  SystemRng rng;
  std::string where;  // host:port, for logs and the audit trail
  std::unique_ptr<tls::TlsContext> tls_ctx;
  std::unique_ptr<tls::SessionStore> sessions;
  std::unique_ptr<mqtt_link::ClientLink> link;
  // Packet ids belong to one connection: a commit that completes after a
  // reconnect must not acknowledge the new connection's packet of that id.
  std::uint64_t connection_generation = 0;
  std::size_t storing = 0;  // PUBLISHes handed to storage, not yet completed
  bool stopping = false;
  BrokerSourceStatus counters;
  // Batch ids durable but not yet in a published receipt, per gateway id.
  std::map<std::string, std::deque<receipt::BatchId>, std::less<>> unreceipted;
  // A gateway that never subscribes must not grow this without bound: the
  // oldest ids go (counted); that gateway re-sends them and gets a receipt then.
  static constexpr std::size_t kMaxUnreceiptedPerGateway = 8 * receipt::kMaxBatchIds;

  mqtt::Time mnow() const { return link->now(); }
  // The current connection's session; null before the first.
  mqtt::ClientSession* session() { return link->session(); }

  void make_link();
  asio::awaitable<void> close_when_stored();
  asio::awaitable<void> receipt_loop();
  // Publishes receipts for what is durable; what the session cannot take now
  // (window full, disconnected) waits for the next round.
  void publish_receipts();
  void on_link_down(const mqtt_link::LinkDown& down);
  void on_mqtt_events(std::span<const mqtt::ClientEvent> events);
  void on_publish(const mqtt::Publish& p);
  // Stores the job; once durable, marks `received` and acknowledges.
  // `receipt_for`: the gateway whose receipt names this PUBLISH once durable
  // (empty: none, e.g. a foreign topic).
  void submit(WriteJob job, std::vector<ReceivedKey> received, std::uint16_t packet_id, bool qos1,
              std::string receipt_for = {}, receipt::BatchId batch = {});
  void flush() { link->flush(); }
};

void BrokerSource::Impl::make_link() {
  mqtt_link::LinkOptions o;
  o.host = config.endpoint.host;
  o.port = config.endpoint.port;
  o.server_name = config.server_name;
  o.mqtt.client_id = config.client_id;
  o.mqtt.clean_session = false;  // the broker queues uplinks while we are away
  o.mqtt.keep_alive_s = config.keep_alive_s;
  o.mqtt.deferred_acks = true;  // PUBACK only once durable
  o.mqtt.max_pending_acks = config.max_unacknowledged;
  o.backoff_initial = config.backoff_initial;
  o.backoff_max = config.backoff_max;
  o.tickets = sessions.get();
  o.early_data_max_bytes = 0;  // CONNECT and SUBSCRIBE are not replay-safe
  o.log_name = "cloud: broker source";
  mqtt_link::LinkHandler h;
  h.on_session = [this](std::size_t) { ++connection_generation; };
  h.on_events = [this](std::span<const mqtt::ClientEvent> events) { on_mqtt_events(events); };
  h.on_down = [this](const mqtt_link::LinkDown& down) { on_link_down(down); };
  link = std::make_unique<mqtt_link::ClientLink>(deps.io, *tls_ctx, deps.clock, rng, std::move(o), std::move(h));
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
      if (!qos1 || !session() || generation != connection_generation) return;
      if (!session()->acknowledge(packet_id)) return;  // session gone: the broker redelivers
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
  // No commands through a broker, but a reply still takes a sequence number.
  for (const auto& r : prepared.replies) job.replies.push_back(reply_row(r, unix_ms(deps.clock.now())));
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
  if (!deps.receipt_key || !link->connected()) return;
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
      if (!session()->publish(topics::receipts_topic(it->first), *sealed, mqtt::QoS::kAtLeastOnce, false, mnow())) {
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
  while (!link->finished()) {
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
        spdlog::info("cloud: broker source connected to {} as '{}' (session {})", where, config.client_id,
                     ev.session_present ? "resumed, queued uplinks follow" : "new");
        // Subscribing again on a kept session is harmless and repairs a
        // session the broker lost.
        mqtt::TopicRequest t{topics::kEveryUplink, mqtt::QoS::kAtLeastOnce};
        (void)session()->subscribe(std::span<const mqtt::TopicRequest>(&t, 1), mnow());
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
        counters.connected = false;  // the link closes the connection
        break;
      default:
        break;
    }
  }
}

void BrokerSource::Impl::on_link_down(const mqtt_link::LinkDown& down) {
  using Stage = mqtt_link::LinkDown::Stage;
  counters.connected = false;
  if (down.stage == Stage::kTcp) {
    ++counters.connect_failures;
    if (!down.retry_in) {
      // Cancelled by stop(): nothing to report.
    } else if (down.resolving) {
      spdlog::warn("cloud: cannot resolve broker host {}: {}", config.endpoint.host, down.reason);
    } else {
      spdlog::warn("cloud: cannot reach broker {}: {}", where, down.reason);
    }
  } else if (down.stage == Stage::kTls) {
    ++counters.connect_failures;
    if (down.tls_error) {
      // One clear line: which broker, and why it was refused.
      spdlog::error("cloud: broker {} refused: TLS handshake failed: {} ({})", where,
                    tls::reason_name(down.tls_error->reason), down.tls_error->message);
    } else {
      spdlog::error("cloud: broker TLS: {}", down.reason);
    }
  } else if (down.tls_error) {
    spdlog::warn("cloud: link to broker {} failed: {} ({})", where, tls::reason_name(down.tls_error->reason),
                 down.tls_error->message);
  }
  // The MQTT session's own end (a refused CONNECT, a keep-alive timeout) is
  // logged with its event in on_mqtt_events.
  if (down.retry_in) spdlog::info("cloud: reconnecting to broker {} in {} ms", where, down.retry_in->count());
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
  link->disconnect();  // clean session off: the broker keeps our session
}

BrokerSource::BrokerSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BrokerSource::~BrokerSource() = default;

Expected<std::unique_ptr<BrokerSource>> BrokerSource::create(const BrokerConfig& config, Deps deps) {
  if (config.url.empty()) {
    return fail("[broker] has no url and --broker was not given (mqtts://host:8883)");
  }
  auto impl = std::make_unique<Impl>(config, std::move(deps));
  auto ctx = tls::TlsContext::create(config.tls, impl->deps.clock);
  if (!ctx) return fail("broker TLS", ctx.error());
  impl->tls_ctx = std::move(*ctx);
  std::error_code ec;
  std::filesystem::create_directories(config.ticket_dir, ec);
  if (ec) return fail("cannot create " + config.ticket_dir.string() + ": " + ec.message());
  std::filesystem::permissions(config.ticket_dir, std::filesystem::perms::owner_all, ec);
  impl->sessions = std::make_unique<tls::SessionStore>(config.ticket_dir, impl->deps.clock, config.ticket_max_age);
  impl->make_link();
  return std::unique_ptr<BrokerSource>(new BrokerSource(std::move(impl)));
}

void BrokerSource::start() {
  auto& i = *impl_;
  spdlog::info("cloud: broker source {} as '{}', subscribing to {}", i.config.url, i.config.client_id,
               topics::kEveryUplink);
  i.link->start();
  if (i.deps.receipt_key && i.config.receipts) asio::co_spawn(i.deps.io, i.receipt_loop(), asio::detached);
}

void BrokerSource::stop() {
  auto& i = *impl_;
  if (i.stopping) return;
  i.stopping = true;
  // An unreachable broker must not hold up shutdown; a connection that is
  // up stays until what is being stored is acknowledged.
  i.link->stop_reconnecting();
  asio::co_spawn(i.deps.io, i.close_when_stored(), asio::detached);
}

BrokerSourceStatus BrokerSource::status() const { return impl_->counters; }

}  // namespace armored::cloud
