#include "gateway/gateway.h"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cstring>
#include <deque>
#include <iostream>
#include <unordered_map>

#include "common/file_io.h"
#include "common/hex.h"
#include "common/loop_call.h"
#include "common/log.h"
#include "common/rng.h"
#include "e3/batch.h"
#include "gateway/gateway_metrics.h"
#include "gateway/internal/recent_set.h"
#include "link/link.h"
#include "mqtt/client_session.h"
#include "mqtt_link/client_link.h"
#include "receipt/receipt.h"
#include "spool/spool.h"
#include "tls/context.h"
#include "tls/crl_watch.h"
#include "tls/session_store.h"
#include "topics/topics.h"
#include "udp_batch/udp_batch.h"

namespace armored::gateway {
using asio::ip::tcp;
using asio::ip::udp;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// A kid (1..8 bytes) as a fixed-size map key: no heap key, no memcmp.
struct KidKey {
  std::uint64_t bytes = 0;
  std::uint8_t size = 0;
  bool operator==(const KidKey&) const = default;
};
struct KidKeyHash {
  std::size_t operator()(const KidKey& k) const {
    return static_cast<std::size_t>((k.bytes ^ k.size) * 0x9E3779B97F4A7C15ull >> 16);
  }
};
KidKey kid_key(ByteSpan kid) {
  KidKey k;
  k.size = static_cast<std::uint8_t>(std::min(kid.size(), sizeof k.bytes));
  std::memcpy(&k.bytes, kid.data(), k.size);
  return k;
}

// One received datagram: its bytes are arena[offset, offset + size).
// What opening the spool found and did, in words an operator can act on.
void report_spool_recovery(const spool::SpoolStats& st, const std::filesystem::path& dir) {
  // Repaired from the other copy: nothing lost, but a copy went bad (or a
  // mirror was added) and an operator may want to check that device.
  for (const auto& line : st.mirror_log) spdlog::warn("gateway: spool {}: {}", dir.string(), line);
  if (st.torn_bytes > 0) {
    spdlog::warn("gateway: spool {}: cut a torn tail of {} bytes. An append interrupted by a crash leaves"
                 " exactly this and was never answered, so its devices send those readings again; if the"
                 " file was cut by other means, `armored report gaps` on the cloud lists what is missing",
                 dir.string(), st.torn_bytes);
  }
  if (!st.quarantined.empty()) {
    std::string files;
    for (const auto& f : st.quarantined) files += (files.empty() ? "" : ", ") + f;
    spdlog::error("gateway: spool {}: damage quarantined ({} bytes) to {}; every intact record before and after"
                  " it is kept and forwarded; {} record ids were lost with the damaged bytes (`armored report"
                  " gaps` on the cloud lists the readings)",
                  dir.string(), st.quarantined_bytes, files, st.id_gaps);
  }
  if (st.ack_rebuilt) {
    spdlog::warn("gateway: spool {}: the acknowledgement cursor was damaged and is rebuilt from the segments:"
                 " records it had covered may be sent again, and the cloud drops them as duplicates",
                 dir.string());
  }
}

struct Datagram {
  std::size_t offset = 0, size = 0;
  std::size_t header_size = 0;  // set once classified; 0 = malformed, no answer
  bool duplicate = false;       // spooled before: answer again, do not spool
  std::uint64_t hash = 0;       // datagram_hash of its bytes
  udp::endpoint from;
};
}  // namespace

struct Gateway::Impl {
  Impl(const GatewayConfig& c, Clock& clk)
      : config(c), clock(clk), udp_sock(io), signals(io, SIGINT, SIGTERM), pump_wake(io) {
    pump_wake.expires_at(std::chrono::steady_clock::time_point::max());
  }

  GatewayConfig config;
  Clock& clock;
  SystemRng rng;
  asio::io_context io;
  udp::socket udp_sock;
  asio::signal_set signals;
  asio::steady_timer pump_wake;
  asio::steady_timer receipt_timer{io};  // receipt mode: armed at next_receipt_deadline()
  std::unique_ptr<tls::TlsContext> tls_ctx;
  std::unique_ptr<tls::SessionStore> sessions;
  std::unique_ptr<spool::Spool> spool;
  bool stopping = false;
  int exit_code = 0;
  bool gro = false;  // the UDP socket takes coalesced runs (UDP_GRO)
  GatewayStatus counters;
  // Backlog age: the monotonic time of the first append in each second,
  // with its spool id (at most one mark a second). The oldest unacknowledged
  // record is no older than the last mark at or before it. Records left from
  // before a restart count from the start.
  std::deque<std::pair<std::uint64_t, Clock::Duration>> append_marks;
  // [metrics]: the endpoint's thread asks the network thread for a snapshot.
  std::unique_ptr<metrics::Endpoint> metrics_endpoint;
  LoopThread network_thread;
  LoopCopy<GatewayStatus> published;  // what other threads are told

  // The uplink: connecting, keep-alive, flushing and reconnecting are the link's.
  std::unique_ptr<mqtt_link::ClientLink> link;
  mqtt::ClientSession* mqtt = nullptr;  // the link's session for the current connection
  bool mqtt_connected = false;
  struct InFlight {
    std::uint16_t packet_id;
    std::uint64_t last_spool_id;
    std::size_t messages;
    bool acked = false;
    // Receipt mode: the batch's id, whether a receipt named it, and when the
    // broker acknowledged it (the receipt deadline runs from there).
    receipt::BatchId batch{};
    bool receipted = false;
    Clock::Duration acked_at{};
    // Receipt mode, for sending the batch again with the same boundaries
    // (so the same id): it is the `messages` records after this spool id.
    std::uint64_t after_spool_id = 0;
    // The order of the broker's PUBACKs (a re-sent copy gets a new one):
    // the cloud receives a gateway's batches in this order, so a receipt for
    // a later one means this one never reached it.
    std::uint64_t ack_seq = 0;
    Clock::Duration overtaken_at{};  // when a later batch's receipt came first (0: not)
    bool resend_queued = false;      // in resend_queue
    std::uint16_t resend_packet = 0;  // published again, the broker's PUBACK not in yet
  };
  std::deque<InFlight> inflight;
  // Batches the broker acknowledged, oldest first (by spool id), kept in
  // the spool until a receipt names each of them and all before it (direct
  // to armored cloud, the PUBACK confirms and they leave at once). They survive a reconnect (the broker has them); a batch is
  // published again, alone and with its own boundaries, when a later one's
  // receipt overtakes it or when receipts stop coming (check_receipt_deadline).
  std::deque<InFlight> awaiting;
  struct BatchIdHash {
    std::size_t operator()(const receipt::BatchId& id) const {
      std::size_t h;  // the id is a SHA-256 prefix: any 8 bytes of it are a hash
      std::memcpy(&h, id.data(), sizeof h);
      return h;
    }
  };
  // Batch id -> last spool id of its entry in inflight or awaiting, so a
  // receipt's ids are found without a scan.
  std::unordered_map<receipt::BatchId, std::uint64_t, BatchIdHash> batch_index;
  std::deque<std::uint64_t> resend_queue;                     // awaiting entries to publish again, by last spool id
  std::unordered_map<std::uint16_t, std::uint64_t> resend_packets;  // packet id of a re-sent copy -> last spool id
  std::uint64_t next_ack_seq = 1;
  // Where the receipt wait runs from: the last receipt that confirmed one of
  // ours, or the last silence (so each doubled wait is waited in full).
  Clock::Duration receipt_wait_from{};
  std::optional<crypto::EcPublicKey> receipt_key;
  std::chrono::seconds receipt_wait{};  // doubles while no receipt comes
  bool receipt_warned = false;  // one warning per silence, not per batch
  bool tcp_failing = false;     // the last TCP connect failed (logged once per outage)
  std::uint64_t sent_through = 0;  // spool id of the last record sent on this connection
  // Highest spool id that any connection, or the process before a restart,
  // may have put in a PUBLISH. A batch starting at or below it is a
  // redelivery and goes out with DUP=1 (docs/mqtt.md, "DUP").
  std::uint64_t may_have_sent_through = 0;
  struct OutBatch {
    Bytes framed;
    bool dup = false;
  };
  // Recently spooled datagrams, so a re-send is answered, not spooled twice.
  RecentSet recent{std::size_t{1} << 16};
  // Last UDP address each device (by kid) was seen at, for downlink relay.
  // Written only when a device's address changes.
  std::unordered_map<KidKey, udp::endpoint, KidKeyHash> device_addresses;
  udp_batch::Sender answers{link::kMaxPackedAnswer};
  // Answers being packed, one per source address of the current burst.
  static constexpr std::size_t kOpenPackers = 8;
  std::vector<std::pair<udp::endpoint, link::AnswerPacker>> packers;
  std::size_t packers_used = 0;
  // Reused per burst, so the ingress path allocates nothing per datagram.
  std::vector<ByteSpan> accepted;
  std::vector<std::uint64_t> accepted_hash;
  // A spool that cannot take writes (disk full, I/O error): devices get the
  // "busy" answer and keep their readings; logged once when it starts and
  // once when it ends, not per burst.
  bool spool_failing = false;  // not std::optional: see StoreWriter::run
  std::chrono::steady_clock::time_point spool_failing_since{};
  std::uint64_t spool_refused_in_outage = 0;

  mqtt::Time mnow() const { return std::chrono::duration_cast<mqtt::Time>(clock.monotonic()); }
  const topics::GatewayTopics topic = topics::gateway_topics(config.id);  // built once, from config.id
  bool receipt_mode() const { return config.confirm == GatewayConfig::Confirm::kReceipt; }
  // A verified receipt (or, direct to armored cloud, the PUBACK) marks its
  // batches; settle() then lets the confirmed prefix leave the spool.
  void on_receipt(ByteSpan payload);
  void settle();
  // The spool's acknowledgement cursor is written (one fdatasync) once per
  // turn of the event loop, for every batch confirmed in that turn, not
  // once per PUBACK: with small batches the sync per PUBACK was what bound
  // a gateway to a few hundred PUBLISHes/s. A cursor left behind by a crash
  // only means confirmed records are sent again, and the cloud drops them
  // as duplicates.
  void write_ack();
  std::uint64_t ack_due = 0;  // confirmed through this spool id; maybe not yet in the cursor
  bool ack_posted = false;    // a write_ack() is posted, or waits to retry a failed one
  // Everything through this id is confirmed, whether or not the cursor on
  // disk says so yet: where to start sending again.
  std::uint64_t confirmed_through() const { return std::max(ack_due, spool->stats().acked_id); }
  // Receipt mode: queues for re-sending what a later receipt overtook, and,
  // when receipts stop, what has waited past the deadline (duplicates are
  // dropped by the cloud).
  void check_receipt_deadline();
  // Receipt mode: publishes queued re-sends; false when the session's window is full.
  bool publish_resends();
  // The awaiting or inflight entry whose batch ends at `last_spool_id`, or null.
  InFlight* find_entry(std::deque<InFlight>& q, std::uint64_t last_spool_id);
  // A new connection: what was in flight is forgotten (sent again from the
  // spool), re-sends not yet acknowledged are queued again.
  void reset_in_flight();

  Status load();
  GatewayStatus snapshot() const;
  GatewayStatus status_from_any_thread();
  void trim_append_marks();
  spool::SpoolOptions spool_options() const;
  // Closes and opens the spool again (after a failed sync); false if it cannot.
  bool reopen_spool();
  asio::awaitable<void> udp_loop();
  void make_link();
  // A new connection's session; with early_budget > 0, the first batch rides in 0-RTT.
  void on_session(std::size_t early_budget);
  void on_link_down(const mqtt_link::LinkDown& down);
  asio::awaitable<void> status_loop();
  asio::awaitable<void> receipt_timer_loop();
  // When check_receipt_deadline() next has something to do (nullopt: nothing
  // awaits a receipt), and the wake-up for the loop when that moves.
  std::optional<Clock::Duration> next_receipt_deadline() const;
  void rearm_receipt_timer();
  // How long a batch overtaken by a later one's receipt may still be in a
  // receipt of its own (the cloud signs what one commit made durable at once).
  static constexpr Clock::Duration kOvertakenGrace = std::chrono::seconds(1);
  void handle_datagrams(const Bytes& arena, std::span<Datagram> batch);
  void remember_address(ByteSpan kid, const udp::endpoint& from);
  void queue_answer(const udp::endpoint& to, std::uint8_t kind, ByteSpan header);
  void send_answer(const udp::endpoint& to, link::AnswerPacker& p);
  void flush_answers();
  void on_mqtt_events(std::span<const mqtt::ClientEvent> events);
  void pump();
  Result<std::optional<OutBatch>, spool::SpoolError> next_batch(std::size_t max_bytes);
  // Publishes a batch from next_batch(); false (records given back) if the session refused it.
  bool publish_batch(OutBatch& b);
  void flush_mqtt();
  void begin_stop();
};

Status Gateway::Impl::load() {
  auto ctx = tls::TlsContext::create(config.tls, clock);
  if (!ctx) return fail(ctx.error());
  tls_ctx = std::move(*ctx);
  // The cloud would refuse every PUBLISH of a gateway whose id is not its
  // certificate's (acl_denied, visible only in the cloud's audit trail):
  // say so here, at start.
  if (const auto me = tls_ctx->own_identity();
      me.kind != tls::PeerIdentity::Kind::kGateway || me.id != config.id) {
    return fail("gateway id '" + config.id + "' does not match its certificate " + config.tls.cert_chain.string() +
                " (" + (me.uri.empty() ? std::string("no urn:armored:gateway:<id> name") : me.uri) +
                "): the cloud accepts a gateway only under its certificate's id");
  }
  std::error_code ec;
  std::filesystem::create_directories(config.ticket_dir, ec);
  if (ec) return fail("cannot create " + config.ticket_dir.string() + ": " + ec.message());
  std::filesystem::permissions(config.ticket_dir, std::filesystem::perms::owner_all, ec);
  sessions = std::make_unique<tls::SessionStore>(config.ticket_dir, clock, config.ticket_max_age);
  if (receipt_mode()) {
    auto pem = read_text_file(config.receipt_signer, 64 * 1024);
    if (!pem) return unexpected(pem.error());
    auto k = crypto::EcPublicKey::from_pem(*pem);
    if (!k) {
      return fail(config.receipt_signer.string() + ": forward.receipt_signer holds no P-256 certificate or public key");
    }
    receipt_key.emplace(std::move(*k));
    receipt_wait = config.receipt_timeout;
  }
  auto sp = spool::Spool::open(config.spool_dir, spool_options());
  if (!sp) return fail(sp.error());
  spool = std::move(*sp);
  report_spool_recovery(spool->stats(), config.spool_dir);
  auto st = spool->stats();
  // What the spool held at a crash or stop may have been sent (the PUBACK
  // may just have been lost): all of it counts as sent before.
  may_have_sent_through = st.next_id > 0 ? st.next_id - 1 : 0;
  if (st.pending_records > 0) {
    // Their append times died with the last process: they count from now.
    append_marks.emplace_back(st.acked_id + 1, clock.monotonic());
    spdlog::info("gateway: {} spooled messages from before the restart will be forwarded", st.pending_records);
  }
  make_link();
  return {};
}

spool::SpoolOptions Gateway::Impl::spool_options() const {
  spool::SpoolOptions so;
  so.max_total_bytes = config.spool_max_bytes;
  so.max_segment_bytes = std::min<std::size_t>(so.max_segment_bytes, config.spool_max_bytes / 4);
  so.on_corruption = config.spool_on_damage;
  so.mirror_dir = config.spool_mirror;
  return so;
}

bool Gateway::Impl::reopen_spool() {
  spool.reset();  // releases the lock and the descriptors first
  auto sp = spool::Spool::open(config.spool_dir, spool_options());
  if (!sp) {
    // Everything answered "spooled" is on disk; a restart (by the service
    // manager) recovers it. Running on without a spool is not an option.
    spdlog::critical("gateway: cannot reopen the spool after a failed sync: {}; stopping", sp.error().message);
    exit_code = 1;
    begin_stop();
    return false;
  }
  spool = std::move(*sp);
  const auto st = spool->stats();
  report_spool_recovery(st, config.spool_dir);
  if (st.next_id - 1 < std::max(ack_due, may_have_sent_through)) {
    // Damage found at the reopen took records this process had already
    // handed out: their ids would name new records, and a confirmation of
    // the old ones would acknowledge records never sent. A restart starts
    // from what is on disk.
    spdlog::critical("gateway: the reopened spool ends at record {}, before records already sent (through {}); "
                     "stopping",
                     st.next_id - 1, std::max(ack_due, may_have_sent_through));
    ack_due = 0;
    exit_code = 1;
    begin_stop();
    return false;
  }
  return true;
}

void Gateway::Impl::remember_address(ByteSpan kid, const udp::endpoint& from) {
  auto [it, inserted] = device_addresses.try_emplace(kid_key(kid), from);
  if (!inserted && it->second != from) it->second = from;
}

void Gateway::Impl::handle_datagrams(const Bytes& arena, std::span<Datagram> batch) {
  accepted.clear();
  accepted_hash.clear();
  std::size_t duplicates = 0;
  // Hash first and prefetch: the lookups below then rarely wait on memory.
  for (auto& dg : batch) {
    dg.hash = datagram_hash(ByteSpan(arena).subspan(dg.offset, dg.size));
    recent.prefetch(dg.hash);
  }
  for (auto& dg : batch) {
    ++counters.datagrams;
    const ByteSpan d = ByteSpan(arena).subspan(dg.offset, dg.size);
    auto m = link::classify_datagram(d);
    if (!m) {
      ++counters.malformed;
      continue;  // no answer: the sender is not speaking E3
    }
    dg.header_size = m->header.header_size;
    remember_address(m->header.kid, dg.from);
    const std::uint64_t h = dg.hash;
    if (recent.contains(h)) {
      ++counters.duplicates;
      ++duplicates;
      dg.duplicate = true;
      continue;
    }
    accepted.push_back(d);
    accepted_hash.push_back(h);
  }
  std::uint8_t kind = link::kAckSpooled;
  if (!accepted.empty()) {
    auto r = spool->append_batch(accepted);
    if (!r && spool->needs_reopen()) {
      // A failed sync poisons the open spool (spool.h); reopening verifies
      // every record again and keeps what is durable. Then one more try.
      if (reopen_spool()) r = spool->append_batch(accepted);
    }
    if (!r) {
      if (!spool_failing) {
        spool_failing = true;
        spool_failing_since = std::chrono::steady_clock::now();
        spool_refused_in_outage = 0;
        spdlog::error("gateway: spool refuses writes: {}; devices are answered \"busy\" and keep their readings"
                      " until it takes writes again",
                      r.error().message);
      }
      spool_refused_in_outage += accepted.size();
      counters.refused_full += accepted.size();
      kind = link::kAckRefused;
    } else {
      if (spool_failing) {
        spdlog::warn("gateway: spool takes writes again after {:.1f} s ({} messages answered busy meanwhile)",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - spool_failing_since).count(),
                     spool_refused_in_outage);
        spool_failing = false;
      }
      counters.spooled += accepted.size();
      recent.insert_all(accepted_hash);
      const auto mono = clock.monotonic();
      if (append_marks.empty() || mono - append_marks.back().second >= std::chrono::seconds(1)) {
        append_marks.emplace_back(*r, mono);
      }
    }
  }
  if (accepted.empty() && duplicates == 0) return;
  // Answer each device only after its message is durable (or refused);
  // answers to one source address share a datagram (docs/e3-protocol.md).
  for (const auto& dg : batch) {
    if (dg.header_size == 0) continue;
    queue_answer(dg.from, dg.duplicate ? link::kAckSpooled : kind, ByteSpan(arena).subspan(dg.offset, dg.header_size));
  }
  flush_answers();
  if (kind == link::kAckSpooled && !accepted.empty()) pump();
}

void Gateway::Impl::queue_answer(const udp::endpoint& to, std::uint8_t kind, ByteSpan header) {
  std::size_t k = 0;
  while (k < packers_used && packers[k].first != to) ++k;
  if (k == packers_used) {
    if (packers_used == kOpenPackers) {
      // More sources than open packers: the oldest one goes out now.
      send_answer(packers[0].first, packers[0].second);
      std::rotate(packers.begin(), packers.begin() + 1, packers.begin() + static_cast<std::ptrdiff_t>(packers_used));
      k = packers_used - 1;
    } else {
      k = packers_used++;
    }
    packers[k].first = to;
  }
  link::AnswerPacker& p = packers[k].second;
  if (!p.add(kind, header)) {
    send_answer(to, p);
    (void)p.add(kind, header);
  }
}

void Gateway::Impl::send_answer(const udp::endpoint& to, link::AnswerPacker& p) {
  const std::size_t entries = p.entries();
  ByteSpan out = p.take();
  if (out.empty()) return;
  ++counters.answer_datagrams;
  if (entries > 1) ++counters.packed_answers;
  answers.add(udp_sock.native_handle(), out, to.data(), static_cast<socklen_t>(to.size()));
}

void Gateway::Impl::flush_answers() {
  for (std::size_t k = 0; k < packers_used; ++k) send_answer(packers[k].first, packers[k].second);
  packers_used = 0;
  answers.flush(udp_sock.native_handle());
}

asio::awaitable<void> Gateway::Impl::udp_loop() {
  // recvmmsg: one system call per up to kMaxBatch datagrams instead of one each.
  udp_batch::Receiver rx(link::kMaxDatagram, gro);
  // The burst's datagrams, copied into one reused arena (no allocation per
  // datagram once it has grown to the burst size).
  Bytes arena;
  std::vector<Datagram> batch;
  packers.resize(kOpenPackers);
  udp_sock.non_blocking(true);
  while (!stopping) {
    auto [ec] = co_await udp_sock.async_wait(udp::socket::wait_read, kNoThrow);
    if (ec) {
      if (stopping) break;
      continue;
    }
    arena.clear();
    batch.clear();
    // Drain what is queued so one fdatasync covers the whole burst.
    for (int k = 0; k < 16; ++k) {
      const std::size_t n = rx.receive(udp_sock.native_handle());
      for (std::size_t i = 0; i < n; ++i) {
        ByteSpan d = rx.data(i);
        if (rx.truncated(i)) d = d.first(std::min(d.size(), link::kMaxDatagram + 1));  // classified as oversized
        Datagram& dg = batch.emplace_back();
        dg.offset = arena.size();
        dg.size = d.size();
        std::memcpy(dg.from.data(), &rx.from(i), rx.from_len(i));
        dg.from.resize(rx.from_len(i));
        arena.insert(arena.end(), d.begin(), d.end());
      }
      // With GRO one receive can hold thousands: bound the burst all the same.
      if (n < udp_batch::kMaxBatch || batch.size() >= 4 * udp_batch::kMaxBatch) break;
    }
    if (!batch.empty()) handle_datagrams(arena, batch);
  }
}

Result<std::optional<Gateway::Impl::OutBatch>, spool::SpoolError> Gateway::Impl::next_batch(
    std::size_t max_bytes) {
  auto recs = spool->peek(config.batch_max_messages, max_bytes, sent_through);
  if (!recs) return unexpected(recs.error());
  if (recs->empty()) return std::optional<OutBatch>{};
  std::vector<ByteSpan> msgs;
  for (const auto& r : *recs) msgs.push_back(r.payload);
  auto framed = e3::encode_batch(msgs, {255, 4096});
  if (!framed) {
    return unexpected(spool::SpoolError{spool::SpoolErrorCode::kCorrupt, framed.error().message});
  }
  inflight.push_back({0, recs->back().id, recs->size(), false});
  if (receipt_mode()) {
    InFlight& f = inflight.back();
    f.batch = receipt::batch_id(*framed);
    f.after_spool_id = sent_through;
    batch_index[f.batch] = f.last_spool_id;
  }
  sent_through = recs->back().id;
  const bool dup = recs->front().id <= may_have_sent_through;
  may_have_sent_through = std::max(may_have_sent_through, recs->back().id);
  return std::optional<OutBatch>{OutBatch{std::move(*framed), dup}};
}

bool Gateway::Impl::publish_batch(OutBatch& b) {
  auto id = mqtt->publish(topic.up, b.framed, mqtt::QoS::kAtLeastOnce, false, mnow(), b.dup);
  if (!id) return false;
  inflight.back().packet_id = *id;
  counters.forwarded += inflight.back().messages;
  if (b.dup) counters.redelivered += inflight.back().messages;
  return true;
}

void Gateway::Impl::pump() {
  if (!link || !mqtt || !mqtt_connected) return;
  // Copies the cloud never received go first: they are the oldest.
  if (receipt_mode() && !publish_resends()) {
    flush_mqtt();
    return;
  }
  while (inflight.size() + resend_packets.size() < config.max_inflight) {
    auto b = next_batch(60 * 1024);
    if (!b) {
      spdlog::error("gateway: cannot read spool: {}", b.error().message);
      return;
    }
    if (!*b) break;
    if (!publish_batch(**b)) {
      // Window full or session gone: give the records back for the next try.
      sent_through = inflight.size() > 1    ? inflight[inflight.size() - 2].last_spool_id
                     : !awaiting.empty() ? awaiting.back().last_spool_id
                                         : confirmed_through();
      if (receipt_mode()) batch_index.erase(inflight.back().batch);
      inflight.pop_back();
      break;
    }
  }
  flush_mqtt();
}

void Gateway::Impl::flush_mqtt() {
  if (link) link->flush();
}

void Gateway::Impl::on_mqtt_events(std::span<const mqtt::ClientEvent> events) {
  using K = mqtt::ClientEvent::Kind;
  for (const auto& ev : events) {
    switch (ev.kind) {
      case K::kConnected: {
        mqtt_connected = true;
        const mqtt::TopicRequest t[] = {{topic.down, mqtt::QoS::kAtLeastOnce},
                                        {topic.receipts, mqtt::QoS::kAtLeastOnce}};
        (void)mqtt->subscribe(std::span<const mqtt::TopicRequest>(t, receipt_mode() ? 2 : 1), mnow());
        rearm_receipt_timer();  // deadlines that passed while disconnected are due now
        break;
      }
      case K::kPublishAcked: {
        bool found = false;
        for (auto& f : inflight) {
          if (f.packet_id == ev.packet_id && !f.acked) {
            f.acked = found = true;
            // Direct to armored cloud, the PUBACK follows the commit: it is
            // the confirmation. Through a broker, a receipt must follow, and
            // the wait for it and the PUBACK order start here.
            if (receipt_mode()) {
              f.acked_at = clock.monotonic();
              f.ack_seq = next_ack_seq++;
            } else {
              f.receipted = true;
            }
            break;
          }
        }
        if (auto r = resend_packets.find(ev.packet_id); !found && r != resend_packets.end()) {
          // A copy sent again is with the broker: its wait starts over.
          if (InFlight* f = find_entry(awaiting, r->second); f && f->resend_packet == ev.packet_id) {
            f->resend_packet = 0;
            f->acked_at = clock.monotonic();
            f->ack_seq = next_ack_seq++;
            f->overtaken_at = {};
          }
          resend_packets.erase(r);
        }
        // The spool keeps each batch until it is confirmed, and all before it.
        while (!inflight.empty() && inflight.front().acked) {
          awaiting.push_back(inflight.front());
          inflight.pop_front();
        }
        settle();
        break;
      }
      case K::kMessage: {
        if (receipt_mode() && ev.message.topic == topic.receipts) {
          on_receipt(ev.message.payload);
          break;
        }
        // Downlink: an E3 command for one device; relay it unchanged.
        // Only E3 downlink envelopes: nothing else may reach a device this way.
        auto h = e3::parse_header(ev.message.payload);
        const bool downlink = h && h->type == e3::MessageType::kDownlink;
        auto it = downlink ? device_addresses.find(kid_key(h->kid)) : device_addresses.end();
        if (it == device_addresses.end()) {
          ++counters.downlink_unknown;
          break;
        }
        asio::error_code ec;
        udp_sock.send_to(asio::buffer(ev.message.payload.data(), ev.message.payload.size()), it->second, 0, ec);
        ++counters.downlink_relayed;
        break;
      }
      case K::kClosed:
        if (ev.error) spdlog::warn("gateway: MQTT session closed: {}", ev.error->message);
        mqtt_connected = false;  // the link closes the connection
        break;
      default:
        break;
    }
  }
  pump();
}

void Gateway::Impl::on_link_down(const mqtt_link::LinkDown& down) {
  mqtt_connected = false;
  const bool tcp_failed = down.stage == mqtt_link::LinkDown::Stage::kTcp;
  if (tcp_failed && !tcp_failing) {
    // Once per outage, with the reason; the reconnect lines follow at info.
    spdlog::warn("gateway: cannot {} {}: {}", down.resolving ? "resolve" : "connect to", down.endpoint, down.reason);
  }
  tcp_failing = tcp_failed;
  if (!down.endpoint.empty() && down.endpoint != link->where()) {
    spdlog::warn("gateway: {} cannot be reached; the next attempt goes to {}", down.endpoint, link->where());
  }
  if (down.tls_error) {
    spdlog::warn("gateway: link to {} failed: {} ({})", down.endpoint, tls::reason_name(down.tls_error->reason),
                 down.tls_error->message);
  }
  // The link forgets a ticket the server would not take.
  if (down.stage != mqtt_link::LinkDown::Stage::kSession) ++counters.connect_failures;
  if (down.retry_in) {
    spdlog::info("gateway: reconnecting to {} in {} ms", link->where(), down.retry_in->count());
  }
}

// Sleeps until the next receipt deadline (next_receipt_deadline), or until
// rearm_receipt_timer() says the deadlines moved: nothing polls.
asio::awaitable<void> Gateway::Impl::receipt_timer_loop() {
  while (!stopping) {
    const auto due = link && link->connected() ? next_receipt_deadline() : std::nullopt;
    if (due) {
      receipt_timer.expires_after(std::max(*due - clock.monotonic(), Clock::Duration::zero()));
    } else {
      receipt_timer.expires_at(asio::steady_timer::time_point::max());
    }
    co_await receipt_timer.async_wait(kNoThrow);
    if (stopping) break;
    if (due && clock.monotonic() >= *due && link && link->connected()) check_receipt_deadline();
  }
}

std::optional<Clock::Duration> Gateway::Impl::next_receipt_deadline() const {
  std::optional<Clock::Duration> next;
  auto consider = [&](Clock::Duration t) {
    if (!next || t < *next) next = t;
  };
  if (awaiting.empty()) return next;
  auto waiting = [](const InFlight& f) { return !f.receipted && !f.resend_queued && f.resend_packet == 0; };
  // Silence (check_receipt_deadline): the oldest batch and the last receipt
  // both older than receipt_wait.
  if (const InFlight& oldest = awaiting.front(); waiting(oldest)) {
    consider(std::max(oldest.acked_at, receipt_wait_from) + receipt_wait);
  }
  for (const auto& f : awaiting) {
    if (waiting(f) && f.overtaken_at != Clock::Duration{}) consider(f.overtaken_at + kOvertakenGrace);
  }
  return next;
}

void Gateway::Impl::rearm_receipt_timer() {
  if (receipt_mode()) receipt_timer.cancel();
}

void Gateway::Impl::on_receipt(ByteSpan payload) {
  auto r = receipt::open(payload, *receipt_key, config.id);
  if (!r) {
    // Forged, damaged or another gateway's: it confirms nothing. Whatever
    // it named stays spooled and is sent again at the deadline.
    if (counters.receipts_refused++ == 0 || counters.receipts_refused % 1000 == 0) {
      spdlog::warn("gateway: refused a receipt on {}: {} ({} refused so far); nothing is confirmed by it",
                   topic.receipts, receipt::to_string(r.error()), counters.receipts_refused);
    }
    return;
  }
  ++counters.receipts;
  bool progress = false;
  std::uint64_t newest_ack = 0;  // the latest PUBACK among the batches this receipt confirms
  for (const auto& id : r->batches) {
    auto at = batch_index.find(id);
    if (at == batch_index.end()) continue;  // confirmed already, or sent before with other boundaries
    InFlight* f = find_entry(awaiting, at->second);
    if (!f) f = find_entry(inflight, at->second);
    if (!f || f->batch != id || f->receipted) continue;
    f->receipted = progress = true;
    if (f->ack_seq != 0 && f->resend_packet == 0) newest_ack = std::max(newest_ack, f->ack_seq);
  }
  if (progress) {
    receipt_wait_from = clock.monotonic();
    receipt_wait = config.receipt_timeout;
    if (receipt_warned) {
      spdlog::info("gateway: receipts from the cloud again");
      receipt_warned = false;
    }
  }
  if (newest_ack != 0) {
    // The cloud receives our batches in the order the broker acknowledged
    // them: one acknowledged before a batch it has now confirmed, and not
    // confirmed itself, was dropped on the way (a broker that restarted
    // without it, or a receipt the cloud could not send). It is sent again
    // after a short grace, in case its receipt is merely the next one.
    const auto now = clock.monotonic();
    for (auto& f : awaiting) {
      if (!f.receipted && f.ack_seq < newest_ack && f.resend_packet == 0 && !f.resend_queued &&
          f.overtaken_at == Clock::Duration{}) {
        f.overtaken_at = now;
      }
    }
  }
  settle();
}

void Gateway::Impl::settle() {
  std::uint64_t ack_to = 0;
  while (!awaiting.empty() && awaiting.front().receipted) {
    ack_to = awaiting.front().last_spool_id;
    counters.acknowledged += awaiting.front().messages;
    if (receipt_mode()) batch_index.erase(awaiting.front().batch);
    awaiting.pop_front();
  }
  if (ack_to) {
    ack_due = std::max(ack_due, ack_to);
    if (!ack_posted) {
      ack_posted = true;
      asio::post(io, [this] { write_ack(); });
    }
  }
  // After every PUBACK and receipt: batches waiting, overtaken or confirmed.
  rearm_receipt_timer();
}

void Gateway::Impl::write_ack() {
  ack_posted = false;
  if (!spool || ack_due <= spool->stats().acked_id) return;
  if (auto a = spool->ack(ack_due); !a) {
    // Nothing is lost meanwhile (the records stay in the spool), but their
    // segments stay on disk and count as pending: try again in a second,
    // and at the stop.
    spdlog::error("gateway: spool ack failed: {}; trying again", a.error().message);
    ack_posted = true;
    auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
    retry->async_wait([this, retry](const asio::error_code& ec) {
      if (!ec) write_ack();
    });
    return;
  }
  trim_append_marks();
}

Gateway::Impl::InFlight* Gateway::Impl::find_entry(std::deque<InFlight>& q, std::uint64_t last_spool_id) {
  // Both queues are in spool order.
  auto it = std::lower_bound(q.begin(), q.end(), last_spool_id,
                             [](const InFlight& f, std::uint64_t id) { return f.last_spool_id < id; });
  return it != q.end() && it->last_spool_id == last_spool_id ? &*it : nullptr;
}

void Gateway::Impl::check_receipt_deadline() {
  if (awaiting.empty()) return;
  const auto now = clock.monotonic();
  const InFlight& oldest = awaiting.front();
  // Silence: the oldest batch has waited past the deadline and no receipt
  // has confirmed anything of ours for as long (a cloud that is stopped or
  // cut off, a broker that lost everything). Everything that old goes again.
  const bool silence = !oldest.receipted && oldest.resend_packet == 0 && !oldest.resend_queued &&
                       now - oldest.acked_at >= receipt_wait && now - receipt_wait_from >= receipt_wait;
  std::size_t messages = 0;
  for (auto& f : awaiting) {
    if (f.receipted || f.resend_queued || f.resend_packet != 0) continue;
    const bool overtaken = f.overtaken_at != Clock::Duration{} && now - f.overtaken_at >= kOvertakenGrace;
    if (!overtaken && !(silence && now - f.acked_at >= receipt_wait)) continue;
    f.resend_queued = true;
    f.overtaken_at = {};
    resend_queue.push_back(f.last_spool_id);
    messages += f.messages;
  }
  if (silence) {
    if (!receipt_warned) {
      spdlog::warn("gateway: no receipt from the cloud within {} s for {} messages the broker acknowledged; sending"
                   " them again (is the cloud's broker source running, and may it publish on {}?)",
                   receipt_wait.count(), messages, topic.receipts);
      receipt_warned = true;
    }
    receipt_wait = std::min<std::chrono::seconds>(receipt_wait * 2, std::chrono::minutes(10));
    receipt_wait_from = now;
  }
  if (messages != 0) pump();
}

bool Gateway::Impl::publish_resends() {
  while (!resend_queue.empty()) {
    InFlight* f = find_entry(awaiting, resend_queue.front());
    if (!f || f->receipted || !f->resend_queued) {  // confirmed meanwhile
      resend_queue.pop_front();
      continue;
    }
    if (inflight.size() + resend_packets.size() >= config.max_inflight) return false;
    // The same records as the first time, so the same batch id.
    auto recs = spool->peek(f->messages, std::size_t{4} << 20, f->after_spool_id);
    if (!recs) {
      spdlog::error("gateway: cannot read spool: {}", recs.error().message);
      return false;
    }
    std::vector<ByteSpan> msgs;
    for (const auto& rec : *recs) {
      if (rec.id <= f->last_spool_id) msgs.push_back(rec.payload);
    }
    auto framed = e3::encode_batch(msgs, {255, 4096});
    if (!framed || msgs.empty()) {
      spdlog::error("gateway: cannot send spool records {}..{} again: {}", f->after_spool_id + 1, f->last_spool_id,
                    framed ? std::string("not in the spool") : framed.error().message);
      return false;
    }
    if (const auto id = receipt::batch_id(*framed); id != f->batch) {
      // Other boundaries (records moved aside by a repair): a new id.
      batch_index.erase(f->batch);
      f->batch = id;
      batch_index[id] = f->last_spool_id;
    }
    auto packet = mqtt->publish(topic.up, *framed, mqtt::QoS::kAtLeastOnce, false, mnow(), true);
    if (!packet) return false;
    f->resend_queued = false;
    f->resend_packet = *packet;
    resend_packets[*packet] = f->last_spool_id;
    counters.receipt_resends += f->messages;
    counters.redelivered += f->messages;
    resend_queue.pop_front();
  }
  return true;
}

void Gateway::Impl::reset_in_flight() {
  for (const auto& f : inflight) batch_index.erase(f.batch);
  inflight.clear();
  resend_packets.clear();
  resend_queue.clear();
  for (auto& f : awaiting) {
    if (f.resend_packet != 0) {
      f.resend_packet = 0;
      f.resend_queued = true;
    }
    if (f.resend_queued) resend_queue.push_back(f.last_spool_id);
  }
}

void Gateway::Impl::make_link() {
  mqtt_link::LinkOptions o;
  o.host = config.cloud_host;
  o.port = config.cloud_port;
  o.alternates = config.cloud_alternates;
  o.mqtt.client_id = config.id;
  o.mqtt.keep_alive_s = config.keep_alive_s;
  o.mqtt.max_inflight = config.max_inflight;
  o.backoff_initial = config.backoff_initial;
  o.backoff_max = config.backoff_max;
  o.tickets = sessions.get();
  // 0-RTT: CONNECT and the first batch go in the first flight. E3 drops
  // any replay of it, so early data is safe for telemetry.
  o.early_data_max_bytes = config.early_data_max_bytes;
  o.log_name = "gateway";
  mqtt_link::LinkHandler h;
  h.on_session = [this](std::size_t early_budget) { on_session(early_budget); };
  h.on_handshake = [this](const tls::HandshakeComplete& hc) {
    ++counters.connects;
    if (hc.resumed) ++counters.resumed;
    if (hc.early_data_accepted) ++counters.zero_rtt;
  };
  h.on_events = [this](std::span<const mqtt::ClientEvent> events) { on_mqtt_events(events); };
  h.on_down = [this](const mqtt_link::LinkDown& down) { on_link_down(down); };
  link = std::make_unique<mqtt_link::ClientLink>(io, *tls_ctx, clock, rng, std::move(o), std::move(h));
}

void Gateway::Impl::on_session(std::size_t early_budget) {
  // New MQTT session; everything not acknowledged is sent again from the spool.
  mqtt = link->session();
  mqtt_connected = false;
  reset_in_flight();
  // What the broker acknowledged and awaits a receipt is not sent again
  // here; a receipt that overtakes it or the deadline decides that.
  sent_through = awaiting.empty() ? confirmed_through() : awaiting.back().last_spool_id;
  if (early_budget == 0) return;
  auto b = next_batch(early_budget);
  if (b && *b) {
    if (!publish_batch(**b)) {
      reset_in_flight();
      sent_through = awaiting.empty() ? confirmed_through() : awaiting.back().last_spool_id;
    }
  }
}

asio::awaitable<void> Gateway::Impl::status_loop() {
  if (config.status_interval.count() == 0) co_return;
  asio::steady_timer t(io);
  GatewayStatus last = counters;
  auto last_at = std::chrono::steady_clock::now();
  while (!stopping) {
    t.expires_after(config.status_interval);
    co_await t.async_wait(kNoThrow);
    if (stopping) break;
    GatewayStatus s = snapshot();
    auto now = std::chrono::steady_clock::now();
    std::cerr << "gateway: " << format_status(s, last, std::chrono::duration<double>(now - last_at).count())
              << std::endl;
    last = s;
    last_at = now;
  }
}

GatewayStatus Gateway::Impl::snapshot() const {
  GatewayStatus s = counters;
  s.connected = mqtt_connected;
  if (!spool) return s;  // stopping after a failed reopen
  const auto st = spool->stats();
  s.pending = st.pending_records;
  s.connected = mqtt_connected;
  s.quarantined = st.quarantined;
  s.lost_record_ids = st.id_gaps;
  s.torn_bytes = st.torn_bytes;
  s.ack_rebuilt = st.ack_rebuilt;
  s.mirror_repairs = st.mirror_repairs;
  s.mirror_copied_segments = st.mirror_copied_segments;
  s.mirror_reads = st.mirror_reads;
  s.spool_failing = spool_failing;
  s.receipt_mode = receipt_mode();
  for (const auto& f : awaiting) s.awaiting_receipt += f.messages;
  s.spool_bytes = st.disk_bytes;
  for (const auto& f : inflight) s.inflight_messages += f.messages;
  if (st.pending_records > 0) {
    // The last mark at or before the oldest unacknowledged id.
    const std::uint64_t oldest = st.acked_id + 1;
    std::optional<Clock::Duration> since;
    for (const auto& [id, at] : append_marks) {
      if (id > oldest) break;
      since = at;
    }
    if (!since && !append_marks.empty()) since = append_marks.front().second;
    if (since) s.backlog_age_seconds = std::chrono::duration<double>(clock.monotonic() - *since).count();
  }
  return s;
}

// Marks wholly behind the acknowledged cursor are no longer needed (the
// newest of them still dates the oldest pending record).
void Gateway::Impl::trim_append_marks() {
  const std::uint64_t oldest = spool->stats().acked_id + 1;
  while (append_marks.size() > 1 && append_marks[1].first <= oldest) append_marks.pop_front();
}

GatewayStatus Gateway::Impl::status_from_any_thread() {
  return published.get(network_thread, io, [this] { return snapshot(); }, std::chrono::seconds(2));
}

void Gateway::Impl::begin_stop() {
  if (stopping) return;
  stopping = true;
  asio::error_code ec;
  udp_sock.close(ec);
  signals.cancel(ec);
  if (link) link->stop();
  io.stop();
}

std::string format_mirror_repairs(const GatewayStatus& s) {
  if (s.mirror_repairs == 0 && s.mirror_copied_segments == 0 && s.mirror_reads == 0) return {};
  return fmt::format("; spool mirror: {} damaged ranges repaired and {} segments copied at start, {} records read"
                     " from the mirror (nothing lost; check the disks)",
                     s.mirror_repairs, s.mirror_copied_segments, s.mirror_reads);
}

std::string format_status(const GatewayStatus& s, const GatewayStatus& b, double secs) {
  double rate = secs > 0 ? static_cast<double>(s.acknowledged - b.acknowledged) / secs : 0;
  return fmt::format(
      "{}, {} datagrams, {} malformed, {} spooled, {:.0f} msgs/s acknowledged ({} in all), {} pending, "
      "{} refused (spool full), {} answer datagrams ({} packed), connects {} ({} resumed, {} 0-RTT, {} failed){}{}{}{}",
      s.connected ? "connected" : "disconnected", s.datagrams, s.malformed, s.spooled, rate, s.acknowledged,
      s.pending, s.refused_full, s.answer_datagrams, s.packed_answers, s.connects, s.resumed, s.zero_rtt,
      s.connect_failures, s.spool_failing ? "; SPOOL REFUSES WRITES (devices answered busy)" : "",
      s.quarantined.empty() ? "" : fmt::format("; {} damaged spool ranges quarantined", s.quarantined.size()),
      format_mirror_repairs(s),
      !s.receipt_mode ? ""
                      : fmt::format("; {} awaiting the cloud's receipt, {} receipts, {} refused, {} sent again", s.awaiting_receipt,
                                    s.receipts, s.receipts_refused, s.receipt_resends));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() = default;

Expected<std::unique_ptr<Gateway>> Gateway::create(const GatewayConfig& config, Clock& clock) {
  auto impl = std::make_unique<Impl>(config, clock);
  ARMORED_TRY(impl->load());
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Expected<std::uint16_t> Gateway::bind() {
  auto& i = *impl_;
  asio::error_code ec;
  auto addr = asio::ip::make_address(i.config.udp_address, ec);
  if (ec) return fail("udp.address '" + i.config.udp_address + "' is not an IP address");
  udp::endpoint ep(addr, i.config.udp_port);
  i.udp_sock.open(ep.protocol(), ec);
  if (!ec) i.udp_sock.set_option(asio::socket_base::receive_buffer_size(8 << 20), ec);
  if (!ec) i.udp_sock.bind(ep, ec);
  // Runs of datagrams from one sender (a hub, the fleet simulator) then
  // arrive as one buffer; udp_loop splits them. Optional: off where unsupported.
  if (!ec) i.gro = udp_batch::enable_gro(i.udp_sock.native_handle());
  if (ec) return fail(fmt::format("cannot bind UDP {}:{}: {}", i.config.udp_address, i.config.udp_port, ec.message()));
  if (i.config.metrics.enabled) {
    // Scrapes run on the endpoint's thread and ask the network thread for a
    // snapshot (status_from_any_thread).
    auto e = metrics::Endpoint::start(
        i.config.metrics.endpoint(),
        [&i] {
          metrics::Families out;
          add_gateway_families(out, i.status_from_any_thread());
          metrics::add_process_families(out);
          return out;
        },
        nullptr);
    if (!e) return unexpected(e.error());
    i.metrics_endpoint = std::move(*e);
  }
  return i.udp_sock.local_endpoint().port();
}

int Gateway::run() {
  auto& i = *impl_;
  i.signals.async_wait([&i](const asio::error_code& ec, int) {
    if (!ec) i.begin_stop();
  });
  asio::co_spawn(i.io, i.udp_loop(), asio::detached);
  i.link->start();
  if (i.receipt_mode()) asio::co_spawn(i.io, i.receipt_timer_loop(), asio::detached);
  asio::co_spawn(i.io, i.status_loop(), asio::detached);
  // With [cloud] crl set, the CRL is reloaded on SIGHUP and when the file
  // changes, like the cloud's: new connections are checked against it.
  tls::CrlWatcher crl_watch(i.io, *i.tls_ctx, std::chrono::seconds(5), "gateway", nullptr);
  crl_watch.start();
  i.network_thread.enter();
  i.io.run();
  i.write_ack();  // what was confirmed in the last turns, posted but not run after io.stop()
  i.network_thread.leave();
  i.metrics_endpoint.reset();
  return i.exit_code;
}

void Gateway::stop() {
  asio::post(impl_->io, [this] { impl_->begin_stop(); });
}

GatewayStatus Gateway::status() const { return impl_->status_from_any_thread(); }

std::optional<std::uint16_t> Gateway::metrics_port() const {
  if (!impl_->metrics_endpoint) return std::nullopt;
  return impl_->metrics_endpoint->port();
}

}  // namespace armored::gateway
