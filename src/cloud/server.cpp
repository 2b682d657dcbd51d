#include "cloud/server.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <bit>
#include <atomic>
#include <thread>
#include <map>
#include <iostream>
#include <mutex>
#include <set>
#include <vector>

#include "cloud/admin_socket.h"
#include "cloud/internal/admission.h"
#include "cloud/audit_limiter.h"
#include "cloud/command_service.h"
#include "cloud/internal/e3_receiver.h"
#include "cloud/internal/shared_e3_state.h"
#include "cloud/internal/cluster_subjects.h"
#include "e3/batch.h"
#include "e3/wire.h"
#include "command/codec.h"
#include "common/hex.h"
#include "jetstream/jetstream.h"
#include "receipt/receipt.h"
#include "cloud/internal/e3_state_file.h"
#include "cloud/internal/broker_source.h"
#include "cloud/internal/connection_event.h"
#include "cloud/ingest.h"
#include "cloud/internal/operator_view.h"
#include "cloud/internal/peer_policy.h"
#include "cloud/internal/store_writer.h"
#include "cloud/internal/topics.h"
#include "common/file_io.h"
#include "common/loop_call.h"
#include "common/rng.h"
#include "common/file_mode.h"
#include "common/log.h"
#include "e3/e3.h"
#include "mqtt/server_session.h"
#include "pki/pki.h"
#include "provision/registry.h"
#include "store/store.h"
#include "tls/connection.h"
#include "tls/context.h"
#include "tls/crl_watch.h"
#include "tls/duplex.h"
#include "topics/topics.h"

namespace armored::cloud {
namespace fs = std::filesystem;
using asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// One connection to the configured backend. A store is used by one thread at
// a time, so the storage thread and the command path each open their own.
Expected<std::unique_ptr<store::Store>> open_store(const CloudConfig& config) {
  if (config.backend == "sqlite") {
    auto s = store::open_sqlite(config.sqlite_path);
    if (!s) return fail(s.error());
    return std::move(*s);
  }
  store::PostgresOptions po;
  po.conninfo = config.postgresql_conninfo;
  po.schema = config.postgresql_schema;
  auto s = store::open_postgres(po);
  if (!s) return fail(s.error());
  return std::move(*s);
}
// SQLite damage a start would not notice (a flipped page mid-file) must not
// be written over: a bounded quick_check first (docs/storage.md, "Checks").
Status check_at_start(const CloudConfig& config, store::Store& s) {
  if (config.backend != "sqlite" || config.check_at_start_max_bytes == 0) return {};
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(config.sqlite_path, ec);
  if (ec) return {};
  if (bytes > config.check_at_start_max_bytes) {
    spdlog::warn("cloud: {} is {} MB, above check_at_start_max_bytes: started without an integrity check;"
                 " run `armored cloud --check` in a quiet hour",
                 config.sqlite_path.string(), bytes >> 20);
    return {};
  }
  auto r = s.check_integrity();
  if (!r) return fail("integrity check of " + config.sqlite_path.string(), r.error());
  if (*r != "ok") {
    return fail("the database " + config.sqlite_path.string() + " is damaged; not starting on top of it"
                " (restore it from a backup, or move it aside to start empty; the gateways keep"
                " everything unacknowledged):\n" + *r);
  }
  return {};
}

}  // namespace

Expected<DatabaseCheck> check_database(const CloudConfig& config) {
  DatabaseCheck out;
  if (config.backend == "sqlite") {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config.sqlite_path, ec)) {
      return fail("no such database file: " + config.sqlite_path.string());
    }
    out.bytes = std::filesystem::file_size(config.sqlite_path, ec);
  }
  auto s = open_store(config);
  if (!s) return unexpected(s.error());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = (*s)->check_integrity();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r) {
    out.report = r.error().message;
  } else {
    out.report = *r;
    out.ok = *r == "ok";
  }
  if (!out.ok) {
    store::SecurityEvent ev;
    ev.at_ms = unix_ms(SystemClock().now());
    ev.kind = store::EventKind::kOther;
    ev.reason = "database check failed";
    ev.peer = "cloud";
    ev.detail = out.report.substr(0, 500);
    (void)(*s)->record_events(std::span(&ev, 1));  // best effort: the database is damaged
  }
  return out;
}

// One client connection: its TLS driver (tls::Duplex, the socket's one
// owner: reader, writer and the timer for both the handshake limit and the
// MQTT session's deadlines), its MQTT session, and the cloud's policy state
// the Duplex event handler (on_tls_event) keeps.
struct Conn {
  std::shared_ptr<tls::Duplex> link;
  std::optional<mqtt::ServerSession> mqtt;  // set right after construction
  std::string peer_address;  // address:port, for audit details
  std::string address;       // the IP alone: the key of per-address limits and audit aggregation
  Clock::Duration accepted_at{};  // on the clock's monotonic scale
  std::uint64_t seq = 0;        // accept order: the oldest of an identity is replaced first
  std::string identity_key;     // "gateway:gw1", once counted against max_connections_per_identity
  bool failure_audited = false; // a refusal of this connection is already in the audit trail
  std::string identity;     // verified gateway (or direct device) id
  tls::PeerIdentity peer;   // the whole verified identity, role included
  // The kConnected audit row, written once the MQTT CONNECT names its
  // client id (or when the connection ends without one).
  std::optional<store::SecurityEvent> connected_row;
  std::string serial;       // serial of the certificate it presented (closed when revoked)
  // 0-RTT data arrives before the handshake completes, that is before the
  // peer's identity (and its revocation) is checked: held until then.
  std::vector<tls::ApplicationData> early;
  bool handshake_done = false;
  const char* handshake_kind = "";  // "full", "resumed", "0-RTT" once done (the dashboard shows it)
  bool subscribed_down = false;  // to its own downlink topic: commands may be published to it
  bool closed = false;
};

struct CloudServer::Impl {
  Impl(const CloudConfig& c, Clock& clk) : config(c), clock(clk), acceptor(io), signals(io, SIGINT, SIGTERM) {}

  CloudConfig config;
  Clock& clock;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::unique_ptr<tls::TlsContext> tls_ctx;
  std::optional<e3::Opener> opener;
  std::optional<Ingest> ingest;
  std::optional<PeerPolicy> peer_policy;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<StoreWriter> writer;
  // Device commands (command_service.h): own store connection, admin socket.
  std::unique_ptr<E3StateFile> state_file;
  std::optional<command::Schema> command_schema;
  std::unique_ptr<store::Store> command_store;
  std::optional<CommandService> commands;
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<BrokerSource> broker;  // optional second source
  std::unique_ptr<tls::CrlWatcher> crl_watch;
  // A member so begin_stop() can cancel it: otherwise run() waits out the
  // rest of a status interval (up to status.interval_s) before returning.
  asio::steady_timer status_timer{io};
  std::set<std::shared_ptr<Conn>> conns;
  // Connection slots (admission.h) and the audit aggregation (audit_limiter.h).
  std::optional<Admission> admission;
  std::optional<AuditLimiter> audit;
  // Connections still in their TLS handshake by accept order, the oldest
  // evicted at the global limit. An entry leaves when its handshake
  // completes or its connection ends, so this holds only live handshakes
  // (a queue cleaned lazily would pin every flood connection's memory
  // behind one slow handshake).
  std::map<std::uint64_t, std::weak_ptr<Conn>> pending;
  std::size_t unauthenticated = 0;
  std::uint64_t next_seq = 0;
  // Free space on the database's filesystem fell below [audit]
  // min_free_disk_mb: audit rows are counted and logged, not stored.
  bool audit_disk_low = false;
  std::uint64_t refused_connections = 0, evicted_handshakes = 0, replaced_by_identity = 0;
  std::uint64_t audit_rows_not_stored = 0;
  bool stopping = false;
  CloudStatus counters;  // network-thread counters (merged in status())
  // The operator's view ([metrics], [dashboard]) runs on threads of its own
  // and sees this thread's state only through network_thread.ask().
  std::unique_ptr<OperatorView> view;
  LoopThread network_thread;
  LoopCopy<CloudStatus> published;  // what other threads are told (the last copy if the loop is too busy)
  CloudStatus last_status;
  std::chrono::steady_clock::time_point last_status_at;

  mqtt::Time mnow() const { return std::chrono::duration_cast<mqtt::Time>(clock.monotonic()); }

  Status load();
  asio::awaitable<void> accept_loop();
  // Waits until the connection's Duplex has finished, then gives back its slots.
  asio::awaitable<void> serve(std::shared_ptr<Conn> c);
  void on_tls_event(const std::shared_ptr<Conn>& c, tls::Event& e);
  void on_handshake(const std::shared_ptr<Conn>& c, const tls::HandshakeComplete& hc);
  // The connection's next deadline for its Duplex timer, and what is done then.
  std::optional<Clock::Duration> next_deadline(const Conn& c) const;
  void on_deadline(const std::shared_ptr<Conn>& c, Clock::Duration now);
  asio::awaitable<void> status_loop();
  void on_app_data(const std::shared_ptr<Conn>& c, const tls::ApplicationData& d);
  void on_publish(const std::shared_ptr<Conn>& c, const mqtt::Publish& p, bool early);
  // PUBLISHes whose rows the storage thread has committed (or failed to),
  // waiting for the network thread to acknowledge them.
  struct Committed {
    std::weak_ptr<Conn> conn;
    std::uint16_t packet_id = 0;
    bool qos1 = false;
    bool durable = false;
    std::vector<ReceivedKey> received;  // marked in the replay window once durable
  };
  std::mutex committed_mu;
  std::vector<Committed> committed;
  void acknowledge_committed();
  // [cluster] role = "front" (docs/scale-out.md): uplinks go to JetStream,
  // not to this process's storage; a PUBLISH is acknowledged once
  // JetStream has stored it. Declared after io: destroyed before it, so no
  // completion is posted to a loop that is gone.
  struct LogPublish {
    std::weak_ptr<Conn> conn;
    std::uint16_t packet_id = 0;
    bool qos1 = false;
    std::string peer;
    Bytes payload;
    bool dup = false;
    std::string msg_id;
    int attempts = 0;
  };
  std::unique_ptr<jetstream::Publisher> log;
  // Commands across fronts: the E3 state workers share (read before
  // sealing), sequence numbers from the database, and the plain NATS
  // subjects that carry sealed commands to the front holding the gateway's
  // connection and opened replies back from the workers.
  SharedSequences* front_sequences = nullptr;  // owned by front_sequence_store
  std::unique_ptr<SharedSequences> front_sequence_store;
  std::optional<SharedE3State> shared_state;
  std::unique_ptr<jetstream::Bus> bus;
  std::string front_id;  // this front, so it skips its own command broadcasts
  std::map<Bytes, std::string, std::less<>> device_of_kid;
  Status start_front(const provision::Registry& registry);
  void learn_routes(const std::string& gateway, ByteSpan payload);
  std::size_t log_inflight = 0;
  std::uint64_t log_published = 0, log_retries = 0;
  // Messages refused on the command subjects (cluster_subjects.h), by
  // subject and reason; network thread.
  std::array<std::array<std::uint64_t, kBusRefusalCount>, kBusSubjectCount> bus_refused{};
  void refuse_bus_message(BusSubject subject, BusError e);
  void forward_to_log(const std::shared_ptr<Conn>& c, const mqtt::Publish& p);
  void send_to_log(std::shared_ptr<LogPublish> item);
  void on_logged(const std::shared_ptr<LogPublish>& item, const Status& outcome);
  void security_event(store::EventKind kind, std::string reason, std::string peer, std::string detail);
  // Through the aggregation: `source` is the peer's IP before authentication,
  // its identity after. Returns false if the event went into a summary.
  bool audit_event(store::EventKind kind, std::string reason, std::string peer, std::string detail,
                   std::string_view source);
  void store_audit_rows(std::vector<store::SecurityEvent> rows);
  asio::awaitable<void> audit_loop();
  void update_disk_reserve();
  void refuse_before_handshake(const std::shared_ptr<Conn>& c, std::string reason, std::string detail);
  void replace_oldest_of_identity(const std::shared_ptr<Conn>& newest);
  void record_connected(const std::shared_ptr<Conn>& c, std::optional<std::string_view> client_id);
  void flush(const std::shared_ptr<Conn>& c);
  void close(const std::shared_ptr<Conn>& c);
  void begin_stop();
  void close_revoked(const std::vector<std::string>& serials);
  asio::awaitable<void> drain_then_close();
  CloudStatus snapshot() const;
  CloudStatus status_from_any_thread();
  ConnectionPage connection_list(std::size_t limit) const;
  Status start_operator_view();
  // Device commands (the block after load()).
  Status load_commands(const provision::Registry& registry);
  Status open_admin();
  bool publish_down(std::string_view gateway, ByteSpan payload);
  asio::awaitable<void> command_timer_loop();
  void on_uplink_routes(const PreparedUplink& prepared, const std::string& peer);
};

// Files holding decrypted readings or secrets must be owner-only: the
// SQLite database (created 0600 here; SQLite gives its -wal, -shm and
// -journal the database's mode), the E3 state and its journal, the ticket
// keys. Existing files are checked before anything is read from them.
Status check_private_files(const CloudConfig& config) {
  const auto policy = config.file_permissions;
  auto with = [](const fs::path& p, const char* suffix) { return fs::path(p.string() + suffix); };
  if (config.backend == "sqlite") {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      ARMORED_TRY(check_private_file(with(config.sqlite_path, suffix), policy, "SQLite database"));
    }
    ARMORED_TRY(create_private_file(config.sqlite_path));
  }
  ARMORED_TRY(check_private_file(config.state_file, policy, "E3 state file"));
  ARMORED_TRY(check_private_file(with(config.state_file, ".journal"), policy, "E3 state journal"));
  if (!config.tls.ticket_key_file.empty()) {
    ARMORED_TRY(check_private_file(config.tls.ticket_key_file, policy, "ticket key file"));
  }
  return {};
}

Status CloudServer::Impl::load() {
  ARMORED_TRY(check_private_files(config));
  AdmissionLimits al;
  al.max_connections = config.max_connections;
  al.max_per_address = config.max_connections_per_address;
  al.max_per_identity = config.max_connections_per_identity;
  al.handshake_timeout = config.handshake_timeout;
  al.handshake_timeout_min = config.handshake_timeout_min;
  admission.emplace(al);
  audit.emplace(config.audit, unix_ms(clock.now()));
  if (config.cluster.role == CloudRole::kFront) {
    // Fronts share their ticket keys (sealed in PostgreSQL): a gateway that
    // moves to another front resumes there (docs/scale-out.md).
    auto sh = SharedE3State::open(config.cluster.state_key_file);
    if (!sh) return unexpected(sh.error());
    shared_state.emplace(std::move(*sh));
    auto s = open_store(config);
    if (!s) return unexpected(s.error());
    config.tls.ticket_key_source = std::make_shared<SharedTicketKeys>(std::move(*s), *shared_state);
  }
  auto ctx = tls::TlsContext::create(config.tls, clock);
  if (!ctx) return fail(ctx.error());
  tls_ctx = std::move(*ctx);

  auto registry = provision::load_registry(config.e3_dir);
  if (!registry) return unexpected(registry.error());
  state_file = std::make_unique<E3StateFile>(config.state_file);
  e3::StateStore* sequence_store = state_file.get();
  if (config.cluster.role == CloudRole::kFront) {
    // Fronts share command sequence numbers through the database.
    auto s = open_store(config);
    if (!s) return unexpected(s.error());
    front_sequence_store = std::make_unique<SharedSequences>(std::move(*s));
    front_sequences = front_sequence_store.get();
    sequence_store = front_sequences;
  }
  auto op = load_opener(config, *registry, clock, sequence_store);
  if (!op) return unexpected(op.error());
  opener.emplace(std::move(*op));
  ARMORED_TRY(state_file->load(*opener));
  ingest.emplace(*opener, clock);
  std::map<std::string, Bytes, std::less<>> device_kids;
  for (const auto& d : registry->devices) device_kids.emplace(d.device_id, d.kid);
  peer_policy.emplace(std::move(device_kids));

  auto main_store = open_store(config);
  if (!main_store) return unexpected(main_store.error());
  store = std::move(*main_store);
  ARMORED_TRY(check_at_start(config, *store));
  {
    // The registry into the devices table, for the dashboard's device pages
    // (idempotent: a restart adds only newly enrolled devices).
    std::vector<store::DeviceEnrollment> enrolled;
    enrolled.reserve(registry->devices.size());
    for (const auto& d : registry->devices) enrolled.push_back({d.kid, d.device_id});
    if (auto r = store->register_devices(enrolled, unix_ms(clock.now())); !r) {
      spdlog::warn("cloud: cannot list the enrolled devices in the database ({}); the dashboard's device pages"
                   " will miss them",
                   r.error().message);
    }
  }
  writer = std::make_unique<StoreWriter>(*store, config.max_batch_rows,
                                         [sf = state_file.get()](std::span<const E3StateUpdate> updates) {
                                           return sf->persist(updates);
                                         });
  ARMORED_TRY(load_commands(*registry));
  if (config.cluster.role == CloudRole::kFront) ARMORED_TRY(start_front(*registry));
  spdlog::info("cloud: {} devices enrolled, storage {}", registry->devices.size(), store->backend());
  if (config.broker_enabled) {
    BrokerSource::Deps deps{io, clock, *ingest, *opener, *writer, state_file.get(), std::nullopt};
    if (config.broker.receipts) {
      // Receipts are signed with the cloud's own TLS key unless another is named.
      const fs::path key_file =
          config.broker.receipt_key_file.empty() ? config.tls.key_file : config.broker.receipt_key_file;
      auto pem = read_text_file(key_file, 64 * 1024);
      if (!pem) return unexpected(pem.error());
      auto k = crypto::EcPrivateKey::from_pem(*pem);
      if (!k) return fail(key_file.string() + ": the receipt key must be a P-256 private key (PEM)");
      deps.receipt_key.emplace(std::move(*k));
    }
    auto b = BrokerSource::create(config.broker, std::move(deps));
    if (!b) return unexpected(b.error());
    broker = std::move(*b);
  }
  return {};
}

// ---- Device commands: the hooks between the server and CommandService ----

Status CloudServer::Impl::load_commands(const provision::Registry& registry) {
  if (config.admin.schema.empty()) {
    command_schema.emplace(command::Schema::builtin());
  } else {
    auto sc = command::Schema::load(config.admin.schema);
    if (!sc) return unexpected(sc.error());
    command_schema.emplace(std::move(*sc));
  }
  // A second connection: the storage thread owns the first.
  auto second = open_store(config);
  if (!second) return unexpected(second.error());
  command_store = std::move(*second);
  std::map<std::string, Bytes, std::less<>> kids;
  for (const auto& d : registry.devices) kids.emplace(d.device_id, d.kid);
  commands.emplace(*command_schema, *opener, *command_store, clock, config.admin, std::move(kids),
                   [this](std::string_view gw, ByteSpan payload) { return publish_down(gw, payload); });
  return commands->load();
}

Status CloudServer::Impl::open_admin() {
  if (!config.admin.enabled) return {};
  AdminSocketOptions o;
  o.path = config.admin.socket;
  o.limits = config.admin.limits;
  o.idle_timeout = config.admin.idle_timeout;
  auto a = AdminServer::open(io, o, [this](const AdminRequest& r) { return commands->handle(r); });
  if (!a) return unexpected(a.error());
  admin = std::move(*a);
  return {};
}

bool CloudServer::Impl::publish_down(std::string_view gateway, ByteSpan payload) {
  // Every subscribed connection of that gateway: after a reconnect the old
  // one may linger until its keep-alive runs out. A second copy costs the
  // device nothing (its E3 replay window drops it).
  bool sent = false;
  for (const auto& c : conns) {
    if (c->closed || !c->subscribed_down || c->identity != gateway) continue;
    if (c->mqtt->publish(topics::downlink_topic(gateway), payload, mqtt::QoS::kAtLeastOnce, false, mnow())) {
      flush(c);
      sent = true;
    }
  }
  return sent;
}

void CloudServer::Impl::on_uplink_routes(const PreparedUplink& prepared, const std::string& peer) {
  const std::string* last = nullptr;
  for (const auto& row : prepared.rows) {
    if (last && *last == row.device) continue;  // a batch is mostly runs of one device
    commands->saw_device(row.device, peer);
    last = &row.device;
  }
  for (const auto& r : prepared.replies) commands->on_reply(r, peer);
}

asio::awaitable<void> CloudServer::Impl::command_timer_loop() {
  asio::steady_timer t(io);
  while (!stopping) {
    t.expires_after(std::chrono::seconds(1));
    co_await t.async_wait(kNoThrow);
    if (stopping) break;
    commands->expire_due();
  }
}

void CloudServer::Impl::security_event(store::EventKind kind, std::string reason, std::string peer,
                                       std::string detail) {
  const std::string source = peer;
  audit_event(kind, std::move(reason), std::move(peer), std::move(detail), source);
}

bool CloudServer::Impl::audit_event(store::EventKind kind, std::string reason, std::string peer, std::string detail,
                                    std::string_view source) {
  store::SecurityEvent ev{unix_ms(clock.now()), kind, std::move(reason), std::move(peer), std::move(detail)};
  if (!audit->admit(ev, source)) return false;
  std::vector<store::SecurityEvent> rows;
  rows.push_back(std::move(ev));
  store_audit_rows(std::move(rows));
  return true;
}

// The disk policy: audit rows never take the space readings need. Below
// [audit] min_free_disk_mb free on the database's filesystem they are only
// counted and logged; readings go on being stored until the disk is full.
void CloudServer::Impl::store_audit_rows(std::vector<store::SecurityEvent> rows) {
  if (rows.empty()) return;
  if (audit_disk_low) {
    audit_rows_not_stored += rows.size();
    for (const auto& r : rows) {
      spdlog::warn("cloud: audit (not stored, disk below reserve): {} {} {} {}", store::to_string(r.kind), r.reason,
                   r.peer, r.detail);
    }
    return;
  }
  WriteJob job;
  job.events = std::move(rows);
  writer->submit(std::move(job));
}

void CloudServer::Impl::update_disk_reserve() {
  if (config.backend != "sqlite" || config.audit_min_free_disk_mb == 0) return;
  struct statvfs vfs {};
  const fs::path dir = config.sqlite_path.has_parent_path() ? config.sqlite_path.parent_path() : fs::path(".");
  if (::statvfs(dir.c_str(), &vfs) != 0) return;
  const std::uint64_t free_mb = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize / (1024 * 1024);
  const bool low = free_mb < config.audit_min_free_disk_mb;
  if (low != audit_disk_low) {
    spdlog::warn("cloud: {} MB free on {} ({} MB reserved for readings): audit rows {}", free_mb, dir.string(),
                 config.audit_min_free_disk_mb, low ? "are no longer stored, only logged" : "are stored again");
  }
  audit_disk_low = low;
}

asio::awaitable<void> CloudServer::Impl::audit_loop() {
  asio::steady_timer t(io);
  update_disk_reserve();
  while (!stopping) {
    t.expires_after(std::chrono::seconds(1));
    co_await t.async_wait(kNoThrow);
    const std::int64_t now = unix_ms(clock.now());
    if (now < audit->next_flush_ms() && !stopping) continue;
    update_disk_reserve();
    auto rows = audit->flush(now);
    for (const auto& r : rows) {
      spdlog::warn("cloud: audit summary: {} '{}' {}: {}", store::to_string(r.kind), r.reason, r.peer, r.detail);
    }
    store_audit_rows(std::move(rows));
  }
}

// Refused or given up before authentication: one audit row (aggregated per
// source address and reason), and the connection closes.
void CloudServer::Impl::refuse_before_handshake(const std::shared_ptr<Conn>& c, std::string reason,
                                               std::string detail) {
  if (!c->failure_audited) {
    c->failure_audited = true;
    ++counters.handshakes_failed;
    audit_event(store::EventKind::kFailedHandshake, std::move(reason), "", std::move(detail), c->address);
  }
  close(c);
}

// An identity over max_connections_per_identity: its oldest connection goes
// (the newest is most likely the live one after a reconnect).
void CloudServer::Impl::replace_oldest_of_identity(const std::shared_ptr<Conn>& newest) {
  std::shared_ptr<Conn> oldest;
  for (const auto& c : conns) {
    if (c == newest || c->closed || c->identity_key != newest->identity_key) continue;
    if (!oldest || c->seq < oldest->seq) oldest = c;
  }
  if (!oldest) return;
  ++replaced_by_identity;
  audit_event(store::EventKind::kOther, "identity connection limit", oldest->identity,
              fmt::format("{} connections of {} (max_connections_per_identity {}): closed the oldest, from {}",
                          config.max_connections_per_identity + 1, newest->identity_key,
                          config.max_connections_per_identity, oldest->peer_address),
              oldest->identity);
  close(oldest);
}

// The MQTT client id is the client's claim, not an identity: it is recorded
// beside the certificate's (printable ASCII, at most 64 characters) and,
// with [mqtt] client_id_policy = "match", must equal the certificate id
// (refused in authorize_connect). nullopt: the connection ended before an
// accepted CONNECT.
void CloudServer::Impl::record_connected(const std::shared_ptr<Conn>& c, std::optional<std::string_view> client_id) {
  if (!c->connected_row) return;
  WriteJob job;
  job.events.push_back(std::move(*c->connected_row));
  c->connected_row.reset();
  std::string& detail = job.events.back().detail;
  if (!client_id) {
    detail += " client_id=(no CONNECT)";
  } else if (client_id->empty()) {
    detail += " client_id=(empty)";
  } else {
    detail += " client_id=";
    for (char ch : client_id->substr(0, 64)) detail += (ch > 0x20 && ch < 0x7f) ? ch : '?';
    if (client_id->size() > 64) detail += "...";
    if (*client_id != c->identity) detail += " (not the certificate id)";
  }
  // Aggregated like any other row: a reconnect loop of one identity cannot
  // flood the trail either (summaries are 'other' rows, not 'connected').
  if (!audit->admit(job.events.back(), c->identity)) return;
  store_audit_rows(std::move(job.events));
}

void CloudServer::Impl::flush(const std::shared_ptr<Conn>& c) {
  if (c->closed) return;
  auto out = c->mqtt->pending_output();
  if (!out.empty()) {
    // In pieces: one write() takes at most kMaxPendingWrite (a gateway's
    // whole backlog of PUBACKs and commands can be more).
    if (c->link->write_some(out) != out.size()) {
      close(c);
      return;
    }
    c->mqtt->consume_output(out.size());
  }
}

void CloudServer::Impl::close(const std::shared_ptr<Conn>& c) {
  if (c->closed) return;
  c->closed = true;
  c->link->close();  // sends what is queued and close_notify, then closes the socket
}

void CloudServer::Impl::on_publish(const std::shared_ptr<Conn>& c, const mqtt::Publish& p, bool early) {
  const std::string peer = c->identity;
  if (!may_publish(c->identity, p.topic)) {
    ++counters.acl_denied;
    security_event(store::EventKind::kAclDenied, "publish outside own topic", peer,
                   fmt::format("topic '{}' from {}", p.topic, c->peer_address));
    // MQTT 3.1.1 cannot refuse a PUBLISH except by closing [MQTT-3.3.5-2].
    close(c);
    return;
  }
  if (auto why = peer_policy->refuse_uplink(c->peer, p.payload)) {
    ++counters.acl_denied;
    security_event(store::EventKind::kAclDenied, "envelope of another device", peer,
                   fmt::format("{} from {}", *why, c->peer_address));
    close(c);
    return;
  }
  if (log) {
    forward_to_log(c, p);
    return;
  }
  PreparedUplink prepared = ingest->prepare(peer, p.payload, p.dup);
  on_uplink_routes(prepared, peer);
  WriteJob job;
  job.rows = std::move(prepared.rows);
  for (const auto& r : prepared.replies) job.replies.push_back(reply_row(r, unix_ms(clock.now())));
  job.events = std::move(prepared.events);
  if (audit_disk_low && !job.events.empty()) {
    // Readings first: below the disk reserve their audit rows are dropped
    // (counted). Rejected envelopes are also in the ingest counters.
    audit_rows_not_stored += job.events.size();
    job.events.clear();
  }
  if (prepared.opener_changed) {
    job.e3_state = state_file->capture(*opener, prepared.changed_kids);
  }
  const std::uint16_t id = p.packet_id;
  const bool qos1 = p.qos == mqtt::QoS::kAtLeastOnce;
  (void)early;
  std::weak_ptr<Conn> weak = c;
  job.done = [this, weak, id, qos1, received = std::move(prepared.received)](bool durable) mutable {
    // Back to the network thread: only there may the session be touched.
    // One post per commit, not per PUBLISH: the first completion of a
    // commit posts, the others join its list.
    bool first = false;
    {
      std::lock_guard lk(committed_mu);
      first = committed.empty();
      committed.push_back({weak, id, qos1, durable, std::move(received)});
    }
    if (first) asio::post(io, [this] { acknowledge_committed(); });
  };
  writer->submit(std::move(job));
}

Status CloudServer::Impl::start_front(const provision::Registry& registry) {
  jetstream::Options jo = config.cluster.nats;
  if (jo.name.empty()) jo.name = "armored-front";
  auto p = jetstream::Publisher::connect(jo);
  if (!p) return unexpected(p.error());
  log = std::move(*p);
  for (const auto& d : registry.devices) device_of_kid.emplace(d.kid, d.device_id);
  auto b = jetstream::Bus::connect(jo);
  if (!b) return unexpected(b.error());
  bus = std::move(*b);
  Bytes id(8);
  SystemRng().fill(id);
  front_id = to_hex(id);
  // A sealed command for a device whose gateway this front may hold.
  ARMORED_TRY(bus->subscribe(std::string(kCommandsDown), [this](const jetstream::Bus::Message& m) {
    // Checked before the sender: a forged message naming this front is
    // still counted and audited. Our own always pass.
    auto down = read_command_down(m.header("Armored-Device"), m.data);
    if (down && m.header("Armored-Front") == front_id) return;  // our connections were tried first
    asio::post(io, [this, down = std::move(down)]() mutable {
      if (!down) return refuse_bus_message(BusSubject::kDown, std::move(down.error()));
      if (const std::string* gw = commands->route(down->device)) (void)publish_down(*gw, down->sealed);
    });
  }));
  // A reply a worker opened: the front that sent the command records it.
  ARMORED_TRY(bus->subscribe(std::string(kCommandReplies), [this](const jetstream::Bus::Message& m) {
    auto reply = read_command_reply(m.header("Armored-Device"), m.data);
    asio::post(io, [this, reply = std::move(reply)]() mutable {
      if (!reply) return refuse_bus_message(BusSubject::kReplies, std::move(reply.error()));
      OpenedReply r;
      r.device = std::move(reply->device);
      r.reply = std::move(reply->reply);
      commands->on_reply(r, "", true);
    });
  }));
  CommandService::Elsewhere elsewhere;
  elsewhere.refresh_device = [this](ByteSpan kid) {
    const std::vector<Bytes> kids{Bytes(kid.begin(), kid.end())};
    if (auto r = shared_state->refresh(front_sequences->store(), *opener, kids); !r) {
      spdlog::warn("cloud: cannot read the shared E3 state of a device: {}", r.error().message);
    }
  };
  elsewhere.deliver = [this](std::string_view device, ByteSpan payload) {
    const std::vector<jetstream::Header> headers{{"Armored-Device", std::string(device)}, {"Armored-Front", front_id}};
    return static_cast<bool>(bus->publish(std::string(kCommandsDown), headers, payload));
  };
  commands->set_elsewhere(std::move(elsewhere));
  spdlog::info("cloud: front of a scaled cloud: uplinks go to JetStream stream {} ({})", jo.stream,
               log->stats().server);
  return {};
}

// Counted, and audited through the aggregation (a flood becomes summary
// rows): someone who can publish on the cloud's own NATS is worth a row.
void CloudServer::Impl::refuse_bus_message(BusSubject subject, BusError e) {
  const std::uint64_t n = ++bus_refused[static_cast<std::size_t>(subject)][static_cast<std::size_t>(e.reason)];
  // Logged at the 1st, 2nd, 4th, 8th, ... of each kind: a flood stays a few lines.
  if (std::has_single_bit(n)) {
    spdlog::warn("cloud: refused a message on {} ({}): {}; {} so far", subject_name(subject), to_string(e.reason),
                 e.detail, n);
  }
  security_event(store::EventKind::kProtocolError, "bus message refused: " + std::string(to_string(e.reason)),
                 "nats", std::string(subject_name(subject)) + ": " + e.detail);
}

// The front does not open envelopes, but their key ids are in the clear:
// the route to a device's gateway for commands, as the single process
// learns it from opened readings.
void CloudServer::Impl::learn_routes(const std::string& gateway, ByteSpan payload) {
  std::vector<ByteSpan> messages;
  if (e3::is_batch(payload)) {
    auto b = e3::decode_batch(payload);
    if (!b) return;
    messages = std::move(*b);
  } else {
    messages.push_back(payload);
  }
  ByteSpan last;
  for (ByteSpan m : messages) {
    auto h = e3::parse_header(m);
    if (!h || (last.size() == h->kid.size() && std::equal(last.begin(), last.end(), h->kid.begin()))) continue;
    last = h->kid;
    auto it = device_of_kid.find(Bytes(h->kid.begin(), h->kid.end()));
    if (it != device_of_kid.end()) commands->saw_device(it->second, gateway);
  }
}

// The message id is the gateway's identity and the batch id its receipts
// use (the first 16 bytes of SHA-256 of the payload): a PUBLISH sent again
// after a lost PUBACK, to this front or another, is dropped by JetStream's
// duplicate window; after the window the database's key still stores each
// reading once.
void CloudServer::Impl::forward_to_log(const std::shared_ptr<Conn>& c, const mqtt::Publish& p) {
  auto item = std::make_shared<LogPublish>();
  item->conn = c;
  item->packet_id = p.packet_id;
  item->qos1 = p.qos == mqtt::QoS::kAtLeastOnce;
  item->peer = c->identity;
  item->payload.assign(p.payload.begin(), p.payload.end());
  item->dup = p.dup;
  const auto id = receipt::batch_id(p.payload);
  item->msg_id = c->identity + ":" + to_hex(ByteSpan(id.data(), id.size()));
  learn_routes(c->identity, p.payload);
  ++log_inflight;
  send_to_log(std::move(item));
}

void CloudServer::Impl::send_to_log(std::shared_ptr<LogPublish> item) {
  ++item->attempts;
  const std::vector<jetstream::Header> headers{{"Armored-Peer", item->peer}, {"Armored-Dup", item->dup ? "1" : "0"}};
  auto queued = log->publish("up", item->msg_id, headers, item->payload, [this, item](Status outcome) {
    // On a libnats thread: back to the network thread.
    asio::post(io, [this, item, outcome = std::move(outcome)] { on_logged(item, outcome); });
  });
  if (!queued) asio::post(io, [this, item, outcome = Status(unexpected(queued.error()))] { on_logged(item, outcome); });
}

void CloudServer::Impl::on_logged(const std::shared_ptr<LogPublish>& item, const Status& outcome) {
  if (outcome) {
    --log_inflight;
    ++log_published;
    bool first = false;
    {
      std::lock_guard lk(committed_mu);
      first = committed.empty();
      committed.push_back({item->conn, item->packet_id, item->qos1, true, {}});
    }
    if (first) acknowledge_committed();
    return;
  }
  // Not stored (no quorum, a node lost mid-publish, the stream full): not
  // acknowledged, and sent again with the same id while the gateway is
  // still connected; once it is gone, it sends the PUBLISH again itself.
  auto conn = item->conn.lock();
  if (!conn || conn->closed || stopping) {
    --log_inflight;
    return;
  }
  ++log_retries;
  if (item->attempts == 1 || item->attempts % 20 == 0) {
    spdlog::warn("cloud: JetStream did not take a PUBLISH of {} (attempt {}): {}; retrying", item->peer,
                 item->attempts, outcome.error().message);
  }
  const auto delay = std::chrono::milliseconds(std::min(5000, 100 << std::min(item->attempts - 1, 6)));
  auto timer = std::make_shared<asio::steady_timer>(io, delay);
  timer->async_wait([this, item, timer](const asio::error_code&) { send_to_log(item); });
}

void CloudServer::Impl::acknowledge_committed() {
  std::vector<Committed> done;
  {
    std::lock_guard lk(committed_mu);
    done.swap(committed);
  }
  std::vector<std::shared_ptr<Conn>> touched;
  for (const auto& d : done) {
    // Given up at a stop during a storage outage: neither acknowledged nor
    // marked received, so the gateway's re-sent copy is opened and stored.
    if (!d.durable) continue;
    ingest->mark_stored(d.received);
    auto conn = d.conn.lock();
    if (!conn || conn->closed || !d.qos1) continue;
    if (auto a = conn->mqtt->acknowledge(d.packet_id); !a) continue;
    if (touched.empty() || touched.back() != conn) touched.push_back(conn);
  }
  // One TLS write per connection for all its PUBACKs of this commit.
  for (const auto& conn : touched) flush(conn);
}

void CloudServer::Impl::on_app_data(const std::shared_ptr<Conn>& c, const tls::ApplicationData& d) {
  // Stopping: take nothing new; what is not acknowledged is sent again later.
  if (stopping) return;
  auto events = c->mqtt->receive(d.bytes, mnow());
  for (const auto& ev : events) {
    using K = mqtt::ServerEvent::Kind;
    if (d.arrived_as_early_data && ev.kind != K::kConnected && ev.kind != K::kMessage && ev.kind != K::kClosed) {
      // 0-RTT data may be replayed: only uplink telemetry, which E3 protects
      // against replay, is allowed in it.
      ++counters.early_data_refused;
      security_event(store::EventKind::kEarlyDataRefused, "non-telemetry packet in early data",
                     c->identity, c->peer_address);
      close(c);
      return;
    }
    switch (ev.kind) {
      case K::kMessage:
        on_publish(c, ev.message, d.arrived_as_early_data);
        break;
      case K::kConnected:
        record_connected(c, std::string_view(c->mqtt->client_id()));
        break;
      case K::kSubscribed:
        for (const auto& g : ev.granted) {
          if (g.filter == topics::downlink_topic(c->identity)) c->subscribed_down = true;
        }
        break;
      case K::kClosed:
        if (ev.error) {
          security_event(store::EventKind::kProtocolError, "mqtt", c->identity, std::string(ev.error->message));
        }
        close(c);
        return;
      default:
        break;
    }
    if (c->closed) return;
  }
  flush(c);
}

// Before the handshake: its limit, which shrinks as the listener fills
// (admission.h), so it is read again at least every half
// handshake_timeout_min. After: the MQTT session's keep-alive, connect
// timeout and retransmissions (mqtt::Time is the clock's monotonic scale).
std::optional<Clock::Duration> CloudServer::Impl::next_deadline(const Conn& c) const {
  if (c.closed) return std::nullopt;
  if (!c.handshake_done) {
    const Clock::Duration limit_at = c.accepted_at + admission->handshake_timeout();
    return std::min(limit_at, clock.monotonic() + Clock::Duration(config.handshake_timeout_min) / 2);
  }
  return c.mqtt->next_deadline();
}

void CloudServer::Impl::on_deadline(const std::shared_ptr<Conn>& c, Clock::Duration now) {
  if (c->closed) return;
  if (!c->handshake_done) {
    const auto limit = admission->handshake_timeout();
    if (now - c->accepted_at >= limit) {
      refuse_before_handshake(c, "handshake timeout",
                              fmt::format("{}: no handshake within {} ms", c->peer_address, limit.count()));
    }
    return;
  }
  auto events = c->mqtt->on_timer(now);
  for (const auto& ev : events) {
    if (ev.kind != mqtt::ServerEvent::Kind::kClosed) continue;
    if (ev.error) {
      const bool keep_alive = ev.error->code == mqtt::ErrorCode::kKeepAliveTimeout;
      audit_event(store::EventKind::kProtocolError, keep_alive ? "keep-alive timeout" : "mqtt connect timeout",
                  c->identity,
                  fmt::format("{} from {} (keep alive {} s)", ev.error->message, c->peer_address,
                              c->mqtt->keep_alive_s()),
                  c->identity);
    }
    close(c);
  }
  flush(c);
}

void CloudServer::Impl::on_handshake(const std::shared_ptr<Conn>& c, const tls::HandshakeComplete& hc) {
  c->handshake_done = true;
  c->handshake_kind = hc.early_data_accepted ? "0-RTT" : hc.resumed ? "resumed" : "full";
  --unauthenticated;
  pending.erase(c->seq);
  c->identity = hc.peer.id;
  c->serial = hc.peer.serial;
  if (c->identity.empty()) {
    c->failure_audited = true;
    audit_event(store::EventKind::kFailedHandshake, "no armored identity", "", c->peer_address, c->address);
    close(c);
    return;
  }
  c->peer = hc.peer;
  if (auto why = peer_policy->refuse(hc.peer)) {
    ++counters.acl_denied;
    security_event(store::EventKind::kAclDenied, "role mismatch", c->identity,
                   fmt::format("{} ({}) from {}", *why, hc.peer.uri, c->peer_address));
    close(c);
    return;
  }
  c->connected_row = connected_event(unix_ms(clock.now()), hc, c->peer_address);
  c->identity_key = std::string(role_name(hc.peer.kind)) + ":" + c->identity;
  if (admission->identity_opened(c->identity_key) > config.max_connections_per_identity) {
    replace_oldest_of_identity(c);
  }
  auto early = std::move(c->early);
  for (const auto& ad : early) {
    if (c->closed) break;
    on_app_data(c, ad);
  }
}

// The cloud's connection policy, event by event. Once the connection is
// closed the rest of a batch is ignored.
void CloudServer::Impl::on_tls_event(const std::shared_ptr<Conn>& c, tls::Event& e) {
  if (c->closed) return;
  if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) {
    on_handshake(c, *hc);
  } else if (auto* ad = std::get_if<tls::ApplicationData>(&e)) {
    if (!c->handshake_done) {
      c->early.push_back(std::move(*ad));
    } else {
      on_app_data(c, *ad);
    }
  } else if (auto* f = std::get_if<tls::Failed>(&e)) {
    // A TLS failure leaves the Connection failed; a Failed while it is still
    // open is the socket ending, audited as an abandoned handshake in serve().
    const bool tls_refused = !c->link->connection().is_open();
    if (!c->handshake_done && tls_refused) {
      refuse_before_handshake(c, std::string(tls::reason_name(f->error.reason)),
                              fmt::format("{}: {}", c->peer_address, f->error.message));
    }
    close(c);
  } else if (std::get_if<tls::Closed>(&e)) {
    close(c);
  }
}

asio::awaitable<void> CloudServer::Impl::serve(std::shared_ptr<Conn> c) {
  co_await c->link->wait_finished();
  if (!c->handshake_done && !c->failure_audited && !stopping) {
    // The peer went away mid-handshake: no TLS alert, no timeout, yet a trace.
    refuse_before_handshake(c, "handshake abandoned",
                            fmt::format("{}: connection closed before the handshake completed", c->peer_address));
  }
  close(c);
  if (c->connected_row) record_connected(c, std::nullopt);
  if (!c->handshake_done) --unauthenticated;
  pending.erase(c->seq);
  admission->release(c->address);
  if (!c->identity_key.empty()) admission->identity_closed(c->identity_key);
  conns.erase(c);
}

asio::awaitable<void> CloudServer::Impl::accept_loop() {
  while (!stopping) {
    auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (stopping) break;
      continue;
    }
    asio::error_code aec;
    auto ep = sock.remote_endpoint(aec);
    const std::string address = aec ? "?" : ep.address().to_string();
    const std::string peer_address = aec ? "?" : fmt::format("{}:{}", address, ep.port());
    const Admit verdict = admission->admit(address, unauthenticated);
    if (verdict == Admit::kRefuseGlobal || verdict == Admit::kRefuseAddress) {
      // Refused before any TLS: counted, audited (aggregated per address).
      ++refused_connections;
      if (audit_event(store::EventKind::kFailedHandshake, std::string(to_string(verdict)), "",
                      fmt::format("{}: refused, {} connections open", peer_address, admission->open()), address)) {
        spdlog::warn("cloud: refused {}: {}", peer_address, to_string(verdict));
      }
      asio::error_code ignored;
      sock.close(ignored);
      continue;
    }
    if (verdict == Admit::kEvictThenAccept) {
      while (!pending.empty()) {
        auto oldest = pending.begin()->second.lock();
        pending.erase(pending.begin());
        if (!oldest || oldest->closed || oldest->handshake_done) continue;
        ++evicted_handshakes;
        refuse_before_handshake(oldest, "evicted at connection limit",
                                fmt::format("{}: pending handshake closed for a new connection ({} open)",
                                            oldest->peer_address, admission->open()));
        break;
      }
    }
    auto t = tls::Connection::server(*tls_ctx);
    if (!t) {
      admission->release(address);
      continue;
    }
    auto c = std::make_shared<Conn>();
    c->link = std::make_shared<tls::Duplex>(std::move(sock), std::move(*t), clock);
    c->address = address;
    c->peer_address = peer_address;
    c->accepted_at = clock.monotonic();
    c->seq = next_seq++;
    ++unauthenticated;
    pending.emplace(c->seq, c);
    Conn* raw = c.get();
    mqtt::ServerOptions o;
    o.limits.max_packet_size = config.max_packet_bytes;
    o.max_pending_acks = 4096;
    o.max_keep_alive_s = config.max_keep_alive_s;
    o.connect_timeout = std::chrono::seconds(config.mqtt_connect_timeout_s);
    o.authorize_connect = [this, raw](const mqtt::Connect& cn) {
      if (!config.client_id_must_match || cn.client_id == raw->identity) return mqtt::ConnectReturnCode::kAccepted;
      ++counters.acl_denied;
      std::string shown;
      for (char ch : std::string_view(cn.client_id).substr(0, 64)) shown += (ch > 0x20 && ch < 0x7f) ? ch : '?';
      security_event(store::EventKind::kAclDenied, "client id mismatch", raw->identity,
                     fmt::format("client id '{}' is not the certificate id, from {}", shown, raw->peer_address));
      return mqtt::ConnectReturnCode::kIdentifierRejected;
    };
    // Access rules come from the certificate, decided per subscription.
    o.authorize_subscribe = [this, raw](std::string_view filter, mqtt::QoS q) {
      if (!may_subscribe(raw->identity, filter)) {
        ++counters.acl_denied;
        security_event(store::EventKind::kAclDenied, "subscribe outside own topic", raw->identity,
                       fmt::format("filter '{}'", filter));
        return mqtt::SubAckCode::kFailure;
      }
      return q == mqtt::QoS::kAtMostOnce ? mqtt::SubAckCode::kGrantedQos0 : mqtt::SubAckCode::kGrantedQos1;
    };
    c->mqtt.emplace(std::move(o), mnow());
    conns.insert(c);
    // Weak: the Duplex holds these handlers and the Conn holds the Duplex.
    std::weak_ptr<Conn> weak = c;
    c->link->set_owner_timer(
        [this, weak]() -> std::optional<Clock::Duration> {
          auto conn = weak.lock();
          return conn ? next_deadline(*conn) : std::nullopt;
        },
        [this, weak](Clock::Duration now) {
          if (auto conn = weak.lock()) on_deadline(conn, now);
        });
    c->link->start([this, weak](tls::Event& e) {
      if (auto conn = weak.lock()) on_tls_event(conn, e);
    });
    asio::co_spawn(io, serve(c), asio::detached);
  }
}

CloudStatus CloudServer::Impl::snapshot() const {
  CloudStatus s = counters;
  s.connections = conns.size();
  s.refused_connections = refused_connections;
  s.evicted_handshakes = evicted_handshakes;
  s.replaced_by_identity = replaced_by_identity;
  s.audit_events_summarized = audit->stats().summarized;
  s.audit_rows_not_stored = audit_rows_not_stored;
  const auto& tc = tls_ctx->counters();
  s.handshakes_full = tc.full_handshakes.load();
  s.handshakes_resumed = tc.resumed_handshakes.load();
  s.handshakes_zero_rtt = tc.zero_rtt_handshakes.load();
  const auto& ic = ingest->counters();
  s.messages = ic.messages;
  s.announcements = ic.announcements;
  s.rejected = ic.rejected_total();
  auto ws = writer->stats();
  s.readings_stored = ws.inserted;
  s.duplicates = ws.duplicates;
  s.commits = ws.commits;
  s.storage_failures = ws.failures;
  s.storage_failing = ws.failing;
  s.late_readings = opener->counters().below_window;  // counted once, by the opener
  s.redelivered = ic.rejected[static_cast<std::size_t>(Reject::kRedelivered)];
  s.readings_opened = ic.readings;
  s.connections_handshaking = unauthenticated;
  std::map<std::string, std::uint64_t> by_role{{"gateway", 0}, {"device", 0}};
  for (const auto& c : conns) {
    if (c->handshake_done && !c->closed) ++by_role[std::string(role_name(c->peer.kind))];
  }
  s.connections_by_role.assign(by_role.begin(), by_role.end());
  for (std::size_t r = 0; r < kRejectCount; ++r) {
    s.rejected_by_reason.emplace_back(to_string(static_cast<Reject>(r)), ic.rejected[r]);
  }
  for (std::size_t r = 0; r < tls::kReasonCount; ++r) {
    if (const auto n = tc.failures[r].load(); n > 0) {
      s.handshake_failures_by_reason.emplace_back(std::string(tls::reason_name(static_cast<tls::Reason>(r))), n);
    }
  }
  s.early_data_accepted = tc.early_data_accepted.load();
  s.early_data_rejected = tc.early_data_rejected.load();
  s.early_data_replays_refused = tc.early_data_replays_refused.load();
  if (commands) {
    const auto& cc = commands->counters();
    s.commands_sent = cc.sent;
    s.commands_acknowledged = cc.acknowledged;
    s.commands_refused_by_device = cc.refused_by_device;
    s.commands_refused_by_cloud = cc.refused_by_cloud;
    s.commands_no_route = cc.no_route;
    s.commands_expired = cc.expired;
  }
  if (broker) {
    auto bs = broker->status();
    s.broker_enabled = true;
    s.broker_connected = bs.connected;
    s.broker_session_resumed = bs.session_resumed;
    s.broker_messages = bs.messages;
    s.broker_connect_failures = bs.connect_failures;
  }
  if (log) {
    s.front = true;
    s.jetstream_published = log_published;
    s.jetstream_retries = log_retries;
    s.jetstream_waiting = log_inflight;
    s.nats_connected = log->stats().connected;
    for (std::size_t subject = 0; subject < kBusSubjectCount; ++subject) {
      for (std::size_t reason = 0; reason < kBusRefusalCount; ++reason) {
        s.bus_refused.push_back({std::string(subject_name(static_cast<BusSubject>(subject))),
                                 std::string(to_string(static_cast<BusRefusal>(reason))),
                                 bus_refused[subject][reason]});
      }
    }
  }
  return s;
}

CloudStatus CloudServer::Impl::status_from_any_thread() {
  return published.get(network_thread, io, [this] { return snapshot(); }, std::chrono::seconds(2));
}

ConnectionPage CloudServer::Impl::connection_list(std::size_t limit) const {
  // The longest-open first: a partial sort of pointers, so a refresh with
  // 100,000 connections copies `limit` rows, not every connection.
  std::vector<const Conn*> open;
  open.reserve(conns.size());
  for (const auto& c : conns) {
    if (!c->closed) open.push_back(c.get());
  }
  const auto shown = std::min(limit, open.size());
  std::partial_sort(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(shown), open.end(),
                    [](const Conn* a, const Conn* b) { return a->accepted_at < b->accepted_at; });
  ConnectionPage out;
  out.total = open.size();
  out.rows.reserve(shown);
  const auto now_mono = clock.monotonic();
  const auto now_ms = unix_ms(clock.now());
  for (std::size_t i = 0; i < shown; ++i) {
    const Conn* c = open[i];
    ConnectionInfo ci;
    ci.identity = c->identity;
    ci.role = c->handshake_done ? std::string(role_name(c->peer.kind)) : "";
    ci.address = c->peer_address;
    ci.handshake = c->handshake_kind;
    ci.since_ms = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(now_mono - c->accepted_at).count();
    out.rows.push_back(std::move(ci));
  }
  return out;
}

Status CloudServer::Impl::start_operator_view() {
  OperatorViewFeeds f;
  f.live.status = [this] { return status_from_any_thread(); };
  f.live.connections = [this](std::size_t limit) {
    return network_thread.ask(io, [this, limit] { return connection_list(limit); }, std::chrono::seconds(2))
        .value_or(ConnectionPage{});
  };
  f.live.audit = [this](store::SecurityEvent ev) {
    asio::post(io, [this, ev = std::move(ev)]() mutable {
      if (stopping) return;
      const std::string source = ev.peer;
      audit_event(ev.kind, std::move(ev.reason), std::move(ev.peer), std::move(ev.detail), source);
    });
  };
  const CloudConfig& cfg = config;
  f.open_store = [&cfg] { return open_store(cfg); };
  auto v = OperatorView::start(config, std::move(f), clock);
  if (!v) return unexpected(v.error());
  view = std::move(*v);
  if (auto h = view->histograms()) {
    writer->set_on_commit([h, this](double seconds, std::span<const store::ReadingRow> rows) {
      h->commit_seconds.Observe(seconds);
      h->commit_readings.Observe(static_cast<double>(rows.size()));
      // The reading's own timestamp (whole seconds, the device's clock) to
      // now: the latency operators feel, clock skew included.
      const double now_s = static_cast<double>(unix_ms(clock.now())) / 1000.0;
      for (const auto& r : rows) h->seal_to_stored_seconds.Observe(std::max(0.0, now_s - static_cast<double>(r.timestamp)));
    });
  }
  return {};
}

asio::awaitable<void> CloudServer::Impl::status_loop() {
  if (config.status_interval.count() == 0) co_return;
  last_status = snapshot();
  last_status_at = std::chrono::steady_clock::now();
  while (!stopping) {
    status_timer.expires_after(config.status_interval);
    co_await status_timer.async_wait(kNoThrow);
    if (stopping) break;
    auto now = std::chrono::steady_clock::now();
    auto s = snapshot();
    double secs = std::chrono::duration<double>(now - last_status_at).count();
    std::cerr << "cloud: " << format_status(s, last_status, secs) << std::endl;
    last_status = s;
    last_status_at = now;
  }
}

void CloudServer::Impl::begin_stop() {
  if (stopping) return;
  stopping = true;
  asio::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  if (admin) admin->close();
  if (broker) broker->stop();
  if (crl_watch) crl_watch->stop();
  status_timer.cancel();
  // Drain before closing: what is being committed now is acknowledged, so
  // gateways need not send it again after the restart.
  asio::co_spawn(io, drain_then_close(), asio::detached);
}

// A new CRL applies to new handshakes; peers already connected with a
// certificate it revokes are closed here and the closing is audited.
void CloudServer::Impl::close_revoked(const std::vector<std::string>& serials) {
  const std::set<std::string> revoked(serials.begin(), serials.end());
  std::vector<std::shared_ptr<Conn>> hit;
  for (const auto& c : conns) {
    if (c->handshake_done && !c->closed && revoked.count(c->serial) != 0) hit.push_back(c);
  }
  for (const auto& c : hit) {
    spdlog::warn("cloud: closing {} ({}): certificate {} revoked", c->identity, c->peer_address, c->serial);
    security_event(store::EventKind::kOther, "certificate revoked while connected", c->identity,
                   fmt::format("serial {} from {}", c->serial, c->peer_address));
    close(c);
  }
}

asio::awaitable<void> CloudServer::Impl::drain_then_close() {
  asio::steady_timer t(io);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (((!writer->idle() && !writer->stats().failing) || log_inflight > 0) &&
         std::chrono::steady_clock::now() < give_up) {
    t.expires_after(std::chrono::milliseconds(10));
    co_await t.async_wait(kNoThrow);
  }
  // One more turn so the completions posted by the last commit send their PUBACKs.
  t.expires_after(std::chrono::milliseconds(20));
  co_await t.async_wait(kNoThrow);
  for (const auto& c : conns) close(c);
  // run() returns once every connection coroutine has finished.
}

std::string format_status(const CloudStatus& s, const CloudStatus& b, double secs) {
  double rate = secs > 0 ? static_cast<double>(s.readings_stored - b.readings_stored) / secs : 0;
  std::string line = fmt::format(
      "{} connections, {:.0f} readings/s stored ({} in all), {} duplicates dropped, {} rejected "
      "({} redelivered), {} ACL denials, handshakes {} full / {} resumed / {} 0-RTT / {} failed",
      s.connections, rate, s.readings_stored, s.duplicates, s.rejected, s.redelivered, s.acl_denied,
      s.handshakes_full, s.handshakes_resumed, s.handshakes_zero_rtt, s.handshakes_failed);
  if (s.storage_failing) {
    line += fmt::format("; STORAGE FAILING ({} attempts so far): nothing is acknowledged until it works again",
                        s.storage_failures);
  }
  if (s.refused_connections + s.evicted_handshakes + s.replaced_by_identity > 0) {
    line += fmt::format("; connections refused {} / pending evicted {} / replaced by identity {}",
                        s.refused_connections, s.evicted_handshakes, s.replaced_by_identity);
  }
  if (s.audit_events_summarized + s.audit_rows_not_stored > 0) {
    line += fmt::format("; audit events summarized {}, rows not stored (disk reserve) {}", s.audit_events_summarized,
                        s.audit_rows_not_stored);
  }
  if (s.front) {
    line += fmt::format("; JetStream: {} stored, {} retried, {} waiting{}", s.jetstream_published, s.jetstream_retries,
                        s.jetstream_waiting, s.nats_connected ? "" : ", NATS DISCONNECTED");
    std::uint64_t refused = 0;
    for (const auto& r : s.bus_refused) refused += r.count;
    if (refused > 0) line += fmt::format(", {} bus messages refused", refused);
  }
  if (s.broker_enabled) {
    line += fmt::format("; broker {}, {} messages, {} connect failures",
                        !s.broker_connected            ? "disconnected"
                        : s.broker_session_resumed ? "connected (session resumed)"
                                                   : "connected (new session)",
                        s.broker_messages, s.broker_connect_failures);
  }
  return line;
}

CloudServer::CloudServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CloudServer::~CloudServer() = default;

Expected<std::unique_ptr<CloudServer>> CloudServer::create(const CloudConfig& config, Clock& clock) {
  auto impl = std::make_unique<Impl>(config, clock);
  ARMORED_TRY(impl->load());
  return std::unique_ptr<CloudServer>(new CloudServer(std::move(impl)));
}

Expected<std::uint16_t> CloudServer::listen() {
  auto& i = *impl_;
  asio::error_code ec;
  auto addr = asio::ip::make_address(i.config.address, ec);
  if (ec) return fail("listen.address '" + i.config.address + "' is not an IP address");
  tcp::endpoint ep(addr, i.config.port);
  i.acceptor.open(ep.protocol(), ec);
  if (!ec) i.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) i.acceptor.bind(ep, ec);
  if (!ec) i.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(fmt::format("cannot listen on {}:{}: {}", i.config.address, i.config.port, ec.message()));
  ARMORED_TRY(i.open_admin());
  ARMORED_TRY(i.start_operator_view());
  return i.acceptor.local_endpoint().port();
}

int CloudServer::run() {
  auto& i = *impl_;
  i.signals.async_wait([&i](const asio::error_code& ec, int) {
    if (!ec) i.begin_stop();
  });
  asio::co_spawn(i.io, i.accept_loop(), asio::detached);
  asio::co_spawn(i.io, i.status_loop(), asio::detached);
  i.crl_watch = std::make_unique<tls::CrlWatcher>(i.io, *i.tls_ctx, i.config.crl_check_interval, "cloud",
                                                  [&i](const auto& serials) { i.close_revoked(serials); });
  i.crl_watch->start();
  if (i.admin) i.admin->start();
  asio::co_spawn(i.io, i.command_timer_loop(), asio::detached);
  asio::co_spawn(i.io, i.audit_loop(), asio::detached);
  if (i.broker) i.broker->start();
  i.network_thread.enter();
  i.io.run();
  i.network_thread.leave();
  // No scrape or page reads this server's state from here on.
  i.view.reset();
  i.writer->drain();
  const bool failing = i.writer->stats().failing;
  // Persist replay windows so a restart does not reopen them. They hold only
  // what was stored, so an outage at the stop leaves nothing marked that a
  // gateway will still send.
  if (auto st = i.state_file->write(i.state_file->next_generation(), i.opener->serialize()); !st) {
    spdlog::error("cloud: cannot persist E3 state: {}", st.error().message);
    return 1;
  }
  if (failing) {
    spdlog::error("cloud: stopped while storage was failing; what was not stored was not acknowledged and"
                  " will be sent again");
    return 1;
  }
  return 0;
}

void CloudServer::stop() {
  asio::post(impl_->io, [this] { impl_->begin_stop(); });
}

CloudStatus CloudServer::status() const { return impl_->status_from_any_thread(); }

std::vector<std::string> CloudServer::operator_view() const {
  return impl_->view ? impl_->view->describe() : std::vector<std::string>{};
}

}  // namespace armored::cloud
