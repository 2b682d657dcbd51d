#include "cloud/ingest_worker.h"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "cloud/command_service.h"
#include "cloud/ingest.h"
#include "cloud/internal/cluster_subjects.h"
#include "command/codec.h"
#include "cloud/internal/e3_receiver.h"
#include "cloud/internal/shared_e3_state.h"
#include "cloud/internal/store_writer.h"
#include "common/hex.h"
#include "e3/batch.h"
#include "metrics/metrics.h"
#include "e3/wire.h"
#include "jetstream/jetstream.h"
#include "provision/registry.h"

namespace armored::cloud {

namespace {

// A message whose reading carries an epoch no worker has stored yet (its
// announcement is in a message another worker is still storing) goes back
// to the stream this many times, waiting longer each time, before it is
// opened anyway and the reading refused as of an unknown epoch.
constexpr std::uint64_t kEpochPatience = 12;
constexpr std::chrono::milliseconds kEpochWaitStep{250};
constexpr std::chrono::milliseconds kEpochWaitMax{2000};
// Messages taken but not yet committed: fetching stops above this, so a
// storage outage holds messages in JetStream, not in this process.
constexpr std::size_t kMaxQueuedJobs = 8;

Expected<std::unique_ptr<store::Store>> open_shared_store(const CloudConfig& config) {
  store::PostgresOptions po;
  po.conninfo = config.postgresql_conninfo;
  po.schema = config.postgresql_schema;
  po.shared_writers = true;
  auto s = store::open_postgres(po);
  if (!s) return fail(s.error());
  return std::move(*s);
}

using Deliveries = std::vector<std::unique_ptr<jetstream::Delivery>>;

}  // namespace

struct IngestWorker::Impl {
  CloudConfig config;
  Clock& clock;
  std::optional<provision::Registry> registry;
  std::set<Bytes> enrolled;
  std::optional<e3::Opener> opener;
  std::optional<Ingest> ingest;
  std::optional<SharedE3State> shared;
  std::unique_ptr<store::Store> state_store;   // this thread's: shared E3 state
  std::unique_ptr<store::Store> commit_store;  // the storage thread's
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<jetstream::Consumer> consumer;
  std::unique_ptr<jetstream::Bus> bus;  // replies to commands, to the fronts
  std::unique_ptr<metrics::Endpoint> metrics_endpoint;  // [metrics], when a port is set
  std::atomic<bool> stopping{false};

  // Rows durable, from the storage thread: marked in the opener's replay
  // windows on this thread (the opener is this thread's alone).
  std::mutex durable_mu;
  std::vector<ReceivedKey> durable_keys;

  mutable std::mutex status_mu;
  WorkerStatus counts;

  Impl(const CloudConfig& c, Clock& clk) : config(c), clock(clk) {}

  Status load();
  void process(Deliveries batch);
  void mark_durable();
  bool epoch_ahead(ByteSpan kid, std::uint8_t epoch_id) const;
  void log_status(const WorkerStatus& now, const WorkerStatus& before, double seconds) const;
  WorkerStatus snapshot() const;
};

// The worker's Prometheus families (docs/operations.md, "Metrics").
void add_worker_families(metrics::Families& out, const WorkerStatus& s) {
  using metrics::add_counter;
  using metrics::add_gauge;
  auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  add_counter(out, "armored_worker_messages_total", "JetStream messages taken (one uplink PUBLISH each).", d(s.messages));
  add_counter(out, "armored_worker_redeliveries_total", "Of them, delivered before (to this worker or another).",
              d(s.redeliveries));
  add_counter(out, "armored_worker_acknowledged_total", "Messages acknowledged to JetStream after their commit.",
              d(s.acknowledged));
  add_counter(out, "armored_worker_envelopes_total", "E3 messages in the messages taken.", d(s.envelopes));
  add_counter(out, "armored_worker_readings_stored_total", "Readings committed to PostgreSQL.", d(s.readings_stored));
  add_counter(out, "armored_worker_duplicates_total", "Readings found stored already (dropped by the key).",
              d(s.duplicates));
  add_counter(out, "armored_worker_rejected_total", "E3 messages refused (audited).", d(s.rejected));
  add_counter(out, "armored_worker_announcements_total", "New epochs accepted and written to the shared state.",
              d(s.announcements));
  add_counter(out, "armored_worker_epoch_waits_total",
              "Messages put back to wait for another worker's announcement.", d(s.epoch_waits));
  add_counter(out, "armored_worker_state_refreshes_total", "Device entries read again from the shared E3 state.",
              d(s.state_refreshes));
  add_counter(out, "armored_worker_commits_total", "Storage commits.", d(s.commits));
  add_counter(out, "armored_worker_storage_failures_total", "Failed commit attempts (each retried).",
              d(s.storage_failures));
  add_gauge(out, "armored_worker_storage_failing", "1 while commits fail; nothing is acknowledged meanwhile.",
            s.storage_failing ? 1 : 0);
  add_gauge(out, "armored_worker_nats_connected", "1 while connected to a NATS server.", s.nats_connected ? 1 : 0);
}

Status IngestWorker::Impl::load() {
  auto reg = provision::load_registry(config.e3_dir);
  if (!reg) return unexpected(reg.error());
  registry = std::move(*reg);
  for (const auto& d : registry->devices) enrolled.insert(d.kid);
  // Workers never seal commands: no reservation store.
  auto op = load_opener(config, *registry, clock, nullptr);
  if (!op) return unexpected(op.error());
  opener.emplace(std::move(*op));
  ingest.emplace(*opener, clock);
  auto sh = SharedE3State::open(config.cluster.state_key_file);
  if (!sh) return unexpected(sh.error());
  shared.emplace(std::move(*sh));
  auto s1 = open_shared_store(config);
  if (!s1) return unexpected(s1.error());
  state_store = std::move(*s1);
  auto s2 = open_shared_store(config);
  if (!s2) return unexpected(s2.error());
  commit_store = std::move(*s2);
  {
    std::vector<store::DeviceEnrollment> list;
    for (const auto& d : registry->devices) list.push_back({d.kid, d.device_id});
    if (auto r = state_store->register_devices(list, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         clock.now().time_since_epoch())
                                                         .count());
        !r) {
      spdlog::warn("cloud worker: cannot list the enrolled devices in the database: {}", r.error().message);
    }
  }
  auto loaded = shared->load_all(*state_store, *opener);
  if (!loaded) return unexpected(loaded.error());
  writer = std::make_unique<StoreWriter>(*commit_store, config.max_batch_rows);
  jetstream::Options jo = config.cluster.nats;
  if (jo.name.empty()) jo.name = "armored-worker";
  auto c = jetstream::Consumer::connect(jo);
  if (!c) return unexpected(c.error());
  consumer = std::move(*c);
  auto b = jetstream::Bus::connect(jo);
  if (!b) return unexpected(b.error());
  bus = std::move(*b);
  if (config.metrics.enabled) {
    // Scrapes run on the endpoint's thread; the counters are behind status_mu.
    auto e = metrics::Endpoint::start(
        config.metrics.endpoint(),
        [this] {
          metrics::Families out;
          add_worker_families(out, snapshot());
          metrics::add_process_families(out);
          return out;
        },
        nullptr);
    if (!e) return unexpected(e.error());
    metrics_endpoint = std::move(*e);
  }
  spdlog::info("cloud worker: {} devices enrolled, {} with shared E3 state; consuming {} from {}",
               registry->devices.size(), *loaded, jo.stream, consumer->stats().server);
  return {};
}

// True when a reading's epoch id is ahead of the device's current epoch here
// (1..127 steps on the 8-bit id): this worker has not seen its announcement.
bool IngestWorker::Impl::epoch_ahead(ByteSpan kid, std::uint8_t epoch_id) const {
  if (!enrolled.contains(Bytes(kid.begin(), kid.end()))) return false;  // refused as unknown, whatever we wait for
  const auto current = opener->current_epoch(kid);
  if (!current) return true;
  const auto step = static_cast<std::uint8_t>(epoch_id - static_cast<std::uint8_t>(*current));
  return step >= 1 && step <= 127;
}

void IngestWorker::Impl::mark_durable() {
  std::vector<ReceivedKey> keys;
  {
    std::lock_guard lk(durable_mu);
    keys.swap(durable_keys);
  }
  if (!keys.empty()) ingest->mark_stored(keys);
}

void IngestWorker::Impl::process(Deliveries batch) {
  // 1. Readings of epochs this worker does not hold, whose announcement is
  // not in the same message: read those devices' shared state again.
  struct Item {
    std::shared_ptr<jetstream::Delivery> delivery;
    // (kid, epoch id) of readings ahead of the state held here, whose
    // announcement is not in the same message.
    std::vector<std::pair<Bytes, std::uint8_t>> waiting;
  };
  std::vector<Item> items;
  std::set<Bytes, std::less<>> stale;
  for (auto& d : batch) {
    Item it{std::shared_ptr<jetstream::Delivery>(std::move(d)), {}};
    const ByteSpan payload = it.delivery->data();
    std::vector<ByteSpan> messages;
    // The limits Ingest::prepare() opens the batch with (a gateway sends up
    // to 255 messages): with the library's default of 64, a larger batch
    // was not looked into here, its readings never waited for their epoch's
    // announcement and were refused as of an unknown epoch.
    if (e3::is_batch(payload)) {
      if (auto b = e3::decode_batch(payload, IngestPolicy{}.batch)) messages = std::move(*b);
    } else {
      messages.push_back(payload);
    }
    std::set<Bytes, std::less<>> announced;
    for (ByteSpan m : messages) {
      auto h = e3::parse_header(m);
      if (!h) continue;  // refused by prepare(), with its reason
      const Bytes kid(h->kid.begin(), h->kid.end());
      if (h->type == e3::MessageType::kAnnouncement) {
        announced.insert(kid);
      } else if (!announced.contains(kid) && epoch_ahead(h->kid, h->epoch_id)) {
        it.waiting.emplace_back(kid, h->epoch_id);
        stale.insert(kid);
      }
    }
    items.push_back(std::move(it));
  }
  if (!stale.empty()) {
    const std::vector<Bytes> kids(stale.begin(), stale.end());
    if (auto r = shared->refresh(*state_store, *opener, kids); r) {
      std::lock_guard lk(status_mu);
      counts.state_refreshes += *r;
    } else {
      // The database is not answering: put everything back for later.
      spdlog::warn("cloud worker: cannot read the shared E3 state: {}", r.error().message);
      (void)state_store->reconnect();
      for (auto& it : items) (void)it.delivery->nak(std::chrono::milliseconds(1000));
      return;
    }
  }

  // 2. Open what can be opened now; put back what waits for an announcement.
  std::vector<std::shared_ptr<jetstream::Delivery>> accepted;
  WriteJob job;
  std::vector<ReceivedKey> received;
  std::vector<Bytes> changed;
  struct ReplyOut {
    std::vector<jetstream::Header> headers;
    Bytes bytes;
  };
  std::vector<ReplyOut> replies;
  WorkerStatus add;
  for (auto& it : items) {
    auto& d = *it.delivery;
    ++add.messages;
    if (d.times_delivered() > 1) ++add.redeliveries;
    // Each waiting reading again, against the state held now (after the
    // refresh above): the headers were read once, in step 1.
    bool still_waiting = false;
    for (const auto& [kid, epoch_id] : it.waiting) {
      if (epoch_ahead(kid, epoch_id)) {
        still_waiting = true;
        break;
      }
    }
    if (still_waiting && d.times_delivered() < kEpochPatience) {
      const auto delay = std::min(kEpochWaitMax, kEpochWaitStep * static_cast<int>(d.times_delivered()));
      (void)d.nak(delay);
      ++add.epoch_waits;
      continue;
    }
    const std::string peer = d.header("Armored-Peer").value_or("?");
    const bool dup = d.header("Armored-Dup").value_or("0") == "1" || d.times_delivered() > 1;
    PreparedUplink p = ingest->prepare(peer, d.data(), dup);
    add.envelopes += p.messages;
    add.rejected += p.rejected;
    add.announcements += p.announcements;
    job.rows.insert(job.rows.end(), std::make_move_iterator(p.rows.begin()), std::make_move_iterator(p.rows.end()));
    job.events.insert(job.events.end(), std::make_move_iterator(p.events.begin()),
                      std::make_move_iterator(p.events.end()));
    received.insert(received.end(), p.received.begin(), p.received.end());
    changed.insert(changed.end(), p.changed_kids.begin(), p.changed_kids.end());
    // A reply settles its command in the commit that stores it (whichever
    // front sent the command, alive or not); after that commit it goes to
    // every front, and the one that sent the command stops waiting for it.
    for (const auto& r : p.replies) {
      job.replies.push_back(reply_row(r, unix_ms(clock.now())));
      auto bytes = command::encode_reply(r.reply);
      if (!bytes) continue;
      replies.push_back({{{"Armored-Device", r.device}, {"Armored-Peer", peer}}, std::move(*bytes)});
    }
    accepted.push_back(it.delivery);
  }

  // 3. New epochs into the shared state before their readings are stored:
  // a worker that takes the next message of the device finds them.
  if (!changed.empty()) {
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (std::chrono::milliseconds wait{100};; wait = std::min(wait * 2, std::chrono::milliseconds(5000))) {
      auto r = shared->save(*state_store, *opener, changed);
      if (r) break;
      spdlog::warn("cloud worker: cannot store the shared E3 state ({}); retrying", r.error().message);
      if (stopping) return;  // nothing acknowledged: all of it comes back
      (void)state_store->reconnect();
      std::this_thread::sleep_for(wait);
    }
  }
  {
    std::lock_guard lk(status_mu);
    counts.messages += add.messages;
    counts.redeliveries += add.redeliveries;
    counts.envelopes += add.envelopes;
    counts.rejected += add.rejected;
    counts.announcements += add.announcements;
    counts.epoch_waits += add.epoch_waits;
  }
  if (accepted.empty()) return;

  // 4. Committed by the storage thread; each message acknowledged after it.
  job.done = [this, accepted = std::move(accepted), received = std::move(received),
              replies = std::move(replies)](bool durable) mutable {
    if (!durable) return;  // given up at a stop during an outage: redelivered later
    for (const auto& r : replies) {
      if (auto st = bus->publish(std::string(kCommandReplies), r.headers, r.bytes); !st) {
        spdlog::warn("cloud worker: cannot tell the fronts of a reply: {}", st.error().message);
      }
    }
    std::uint64_t acked = 0;
    for (auto& d : accepted) {
      if (d->ack()) ++acked;
    }
    {
      std::lock_guard lk(durable_mu);
      durable_keys.insert(durable_keys.end(), received.begin(), received.end());
    }
    std::lock_guard lk(status_mu);
    counts.acknowledged += acked;
  };
  writer->submit(std::move(job));
}

void IngestWorker::Impl::log_status(const WorkerStatus& s, const WorkerStatus& b, double secs) const {
  const double rate = secs > 0 ? static_cast<double>(s.readings_stored - b.readings_stored) / secs : 0;
  spdlog::info("cloud worker: {:.0f} readings/s stored ({} in all), {} duplicates dropped, {} rejected; {} messages"
               " ({} redelivered, {} waited for an epoch){}{}",
               rate, s.readings_stored, s.duplicates, s.rejected, s.messages, s.redeliveries, s.epoch_waits,
               s.storage_failing ? "; STORAGE FAILING: nothing is acknowledged until it works again" : "",
               s.nats_connected ? "" : "; NATS DISCONNECTED");
}

IngestWorker::IngestWorker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngestWorker::~IngestWorker() = default;

Expected<std::unique_ptr<IngestWorker>> IngestWorker::create(const CloudConfig& config, Clock& clock) {
  if (config.cluster.role != CloudRole::kWorker) return fail("not a worker config ([cluster] role = \"worker\")");
  auto impl = std::make_unique<Impl>(config, clock);
  ARMORED_TRY(impl->load());
  return std::unique_ptr<IngestWorker>(new IngestWorker(std::move(impl)));
}

int IngestWorker::run() {
  auto& i = *impl_;
  // SIGTERM and SIGINT stop the loop below, whichever thread they reach.
  asio::io_context signal_io;
  asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&i](const asio::error_code& ec, int) {
    if (!ec) i.stopping = true;
  });
  std::thread signal_thread([&signal_io] { signal_io.run(); });

  auto last_log = std::chrono::steady_clock::now();
  WorkerStatus logged = status();
  bool fetch_failing = false;
  while (!i.stopping) {
    i.mark_durable();
    if (i.writer->queued() >= kMaxQueuedJobs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    auto got = i.consumer->fetch(i.config.cluster.fetch_batch, std::chrono::milliseconds(500));
    if (!got) {
      if (!fetch_failing) spdlog::warn("cloud worker: cannot fetch from JetStream: {}", got.error().message);
      fetch_failing = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    } else {
      if (fetch_failing) spdlog::info("cloud worker: fetching from JetStream again");
      fetch_failing = false;
      if (!got->empty()) i.process(std::move(*got));
    }
    const auto now = std::chrono::steady_clock::now();
    if (i.config.status_interval.count() > 0 && now - last_log >= i.config.status_interval) {
      const WorkerStatus s = status();
      i.log_status(s, logged, std::chrono::duration<double>(now - last_log).count());
      logged = s;
      last_log = now;
    }
  }
  i.writer->drain();
  i.mark_durable();
  const bool failing = i.writer->stats().failing;
  const WorkerStatus s = status();
  i.metrics_endpoint.reset();  // no scrape reads the writer from here on
  i.writer.reset();  // gives up what it could not store; those messages come back
  signal_io.stop();
  signal_thread.join();
  spdlog::info("cloud worker: stopped; {} messages, {} acknowledged, {} readings stored, {} duplicates dropped",
               s.messages, s.acknowledged, s.readings_stored, s.duplicates);
  return failing ? 1 : 0;
}

void IngestWorker::stop() { impl_->stopping = true; }

WorkerStatus IngestWorker::Impl::snapshot() const {
  WorkerStatus s;
  {
    std::lock_guard lk(status_mu);
    s = counts;
  }
  if (writer) {
    const auto ws = writer->stats();
    s.readings_stored = ws.inserted;
    s.duplicates = ws.duplicates;
    s.commits = ws.commits;
    s.storage_failures = ws.failures;
    s.storage_failing = ws.failing;
  }
  if (consumer) s.nats_connected = consumer->stats().connected;
  return s;
}

WorkerStatus IngestWorker::status() const { return impl_->snapshot(); }

std::optional<std::uint16_t> IngestWorker::metrics_port() const {
  if (!impl_->metrics_endpoint) return std::nullopt;
  return impl_->metrics_endpoint->port();
}

}  // namespace armored::cloud
