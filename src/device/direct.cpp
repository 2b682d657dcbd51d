#include "device/direct.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <deque>

#include "common/file_io.h"
#include "common/log.h"
#include "common/rng.h"
#include "crypto/cpu.h"
#include "device/device_sealer.h"
#include "device/internal/simulated_wearable.h"
#include "e3/e3.h"
#include "mqtt/client_session.h"
#include "mqtt_link/client_link.h"
#include "provision/registry.h"
#include "telemetry/generator.h"
#include "tls/context.h"
#include "tls/session_store.h"
#include "topics/topics.h"

namespace armored::device {
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// One wearable (internal/simulated_wearable.h) with its own TLS identity
// and MQTT link: the transport publishes what the wearable may send and
// confirms each message at its PUBACK.
struct DirectDevice {
  std::optional<SimulatedWearable> sim;
  std::string topic;
  std::unique_ptr<tls::TlsContext> tls;
  std::unique_ptr<tls::SessionStore> tickets;
  std::unique_ptr<mqtt_link::ClientLink> link;
};

class DirectFleet {
 public:
  DirectFleet(const FleetOptions& o, const DirectOptions& d) : o_(o), d_(d) {}

  Status load();
  Expected<DirectSummary> run(const FleetProgress& progress);

 private:
  asio::awaitable<void> ticker(const FleetProgress& progress);
  void make_link(DirectDevice& d);
  void on_mqtt(DirectDevice& d, std::span<const mqtt::ClientEvent> events);
  void publish_queued(DirectDevice& d);

  const FleetOptions& o_;
  const DirectOptions& d_;
  SystemClock clock_;
  SystemRng sys_rng_;
  asio::io_context io_;
  // The ticker's one timer: armed at the next reading due (or the next
  // progress report), and cancelled when the last queue drains after the
  // production window, so the run ends without waiting it out.
  asio::steady_timer tick_{io_};
  std::vector<std::unique_ptr<DirectDevice>> devices_;
  DirectSummary sum_;
  Steady::time_point start_, produce_until_, give_up_;
  Steady::duration period_{};
  // So that thousands of devices do not stampede the cloud.
  mqtt_link::ConnectLimiter limiter_{d_.max_connecting};
  bool stopping_ = false;
  std::string fatal_;
};

Status DirectFleet::load() {
  if (o_.devices == 0) return fail("--devices must be at least 1");
  if (!(o_.interval_s > 0) || !(o_.speedup > 0)) return fail("--interval and --speedup must be positive");
  auto keys = load_fleet_keys(o_.e3_dir, o_.devices, o_.aead);
  if (!keys) return unexpected(keys.error());
  std::error_code ec;
  fs::create_directories(o_.state_dir / "tickets", ec);
  if (ec) return fail("cannot create " + o_.state_dir.string() + ": " + ec.message());

  period_ = period_of(o_.interval_s, o_.speedup);
  std::vector<SimulatedWearable*> sims;
  for (std::size_t i = 0; i < o_.devices; ++i) {
    const auto& enrol = keys->registry.devices[i];
    DirectDevice& d = *devices_.emplace_back(std::make_unique<DirectDevice>());
    const std::string& id = enrol.device_id;
    d.topic = topics::uplink_topic(id);
    const fs::path key_path = o_.pki_dir / "device" / (id + ".key");
    auto ds = open_device_sealer(o_.sealer, *keys, enrol, o_.pki_dir, o_.state_dir, clock_, sys_rng_);
    if (!ds) return unexpected(ds.error());
    d.sim.emplace(id, std::move(*ds), o_.max_queue, sum_.fleet);
    sims.push_back(&*d.sim);

    tls::TlsConfig tc;
    tc.role = tls::Role::kClient;
    tc.ca_file = o_.pki_dir / "root-ca.crt";
    tc.cert_chain = o_.pki_dir / "device" / (id + ".crt");
    tc.key_file = key_path;
    tc.intermediates = o_.pki_dir / "issuing-ca.crt";
    auto ctx = tls::TlsContext::create(tc, clock_);
    if (!ctx) return fail("device " + id, ctx.error());
    d.tls = std::move(*ctx);
    const fs::path tdir = o_.state_dir / "tickets" / id;
    fs::create_directories(tdir, ec);
    fs::permissions(tdir, fs::perms::owner_all, ec);
    d.tickets = std::make_unique<tls::SessionStore>(tdir, clock_, std::chrono::seconds(7200));
    make_link(d);
  }
  sum_.fleet.devices = o_.devices;
  // The schedule starts once every device is loaded (TLS contexts included):
  // started before, every device would begin behind with a burst to catch up.
  start_ = start_schedules(sims, period_);
  return {};
}

void DirectFleet::make_link(DirectDevice& d) {
  mqtt_link::LinkOptions o;
  o.host = d_.cloud_host;
  o.port = d_.cloud_port;
  o.mqtt.client_id = d.sim->id();
  o.mqtt.keep_alive_s = d_.keep_alive_s;
  o.mqtt.max_inflight = d_.max_inflight;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);
  o.tickets = d.tickets.get();
  o.limiter = &limiter_;
  o.log_name = "fleet: device " + d.sim->id();
  mqtt_link::LinkHandler h;
  // A new session: everything unacknowledged goes again once it is connected.
  h.on_session = [&d](std::size_t) {
    auto& queue = d.sim->queue();
    for (std::size_t i = 0; i < queue.size(); ++i) queue[i].packet_id = 0;
  };
  h.on_handshake = [this](const tls::HandshakeComplete& hc) {
    ++sum_.connects;
    if (hc.resumed) ++sum_.resumed;
  };
  h.on_events = [this, &d](std::span<const mqtt::ClientEvent> events) { on_mqtt(d, events); };
  h.on_down = [this, &d](const mqtt_link::LinkDown& down) {
    spdlog::debug("fleet: device {}: link ended: {}", d.sim->id(), down.reason);
    if (down.stage != mqtt_link::LinkDown::Stage::kSession) ++sum_.connect_failures;
  };
  d.link = std::make_unique<mqtt_link::ClientLink>(io_, *d.tls, clock_, d.sim->rng(), std::move(o), std::move(h));
}

void DirectFleet::publish_queued(DirectDevice& d) {
  if (!d.link->connected()) return;
  mqtt::ClientSession& session = *d.link->session();
  auto& queue = d.sim->queue();
  // The session's window bounds what is in flight (published in queue
  // order, so a prefix of it); nothing behind an unconfirmed announcement
  // goes yet.
  const std::size_t sendable = d.sim->sendable(d_.max_inflight + 1);
  for (std::size_t i = 0; i < sendable; ++i) {
    Outgoing& q = queue[i];
    if (q.in_flight()) continue;
    auto id = session.publish(d.topic, q.message.span(), mqtt::QoS::kAtLeastOnce, false, d.link->now());
    if (!id) break;  // window full
    q.packet_id = *id;
    if (q.sends > 0) ++sum_.fleet.retransmissions;
    if (q.sends < 255) ++q.sends;
    ++sum_.fleet.datagrams_sent;
  }
  d.link->flush();
}

void DirectFleet::on_mqtt(DirectDevice& d, std::span<const mqtt::ClientEvent> events) {
  using K = mqtt::ClientEvent::Kind;
  for (const auto& ev : events) {
    if (ev.kind == K::kPublishAcked) {
      auto& queue = d.sim->queue();
      for (std::size_t i = 0; i < queue.size(); ++i) {
        if (queue[i].packet_id == ev.packet_id) {
          d.sim->confirm(i);  // the cloud acknowledges once it is durable
          break;
        }
      }
    } else if (ev.kind == K::kClosed && ev.error) {
      spdlog::debug("fleet: device {}: MQTT session closed: {}", d.sim->id(), ev.error->message);
    }
  }
  publish_queued(d);
  if (d.sim->queued() == 0 && Steady::now() >= produce_until_) tick_.cancel();  // maybe the last one: look now
}

asio::awaitable<void> DirectFleet::ticker(const FleetProgress& progress) {
  auto last_progress = start_;
  for (;;) {
    const auto now = Steady::now();
    if (o_.stop_requested && o_.stop_requested->load(std::memory_order_relaxed)) {
      sum_.fleet.stopped = true;
      stopping_ = true;
    }
    const bool producing = now < produce_until_ && !stopping_;
    // Readings carry whole seconds: one clock read per pass over the fleet.
    const auto wall_s = static_cast<std::uint32_t>(unix_seconds(clock_.now()));
    std::uint64_t queued = 0;
    for (auto& d : devices_) {
      if (producing) {
        if (auto s = d->sim->produce(now, wall_s); !s) {
          fatal_ = s.error().message;
          stopping_ = true;
        }
      }
      publish_queued(*d);  // what produce() added
      queued += d->sim->queued();
    }
    sum_.fleet.unacknowledged = queued;
    sum_.fleet.seconds = std::chrono::duration<double>(now - start_).count();
    if (progress && now - last_progress >= std::chrono::seconds(1)) {
      progress(sum_.fleet);
      last_progress = now;
    }
    if (stopping_ || (!producing && (queued == 0 || now >= give_up_))) break;
    // Sleep until a reading is due, or a second at most: progress, a stop
    // request (a flag a signal handler sets) and the drain's end are looked
    // at then. Nothing polls faster than readings are due.
    auto wake = std::min(now + std::chrono::seconds(1), producing ? produce_until_ : give_up_);
    if (producing) {
      for (const auto& d : devices_) wake = std::min(wake, d->sim->next_due());
    }
    tick_.expires_at(wake);
    co_await tick_.async_wait(kNoThrow);
  }
  // Done: say goodbye on every open session and let the links close.
  stopping_ = true;
  for (auto& d : devices_) d->link->stop();
}

Expected<DirectSummary> DirectFleet::run(const FleetProgress& progress) {
  produce_until_ = start_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o_.duration_s));
  give_up_ = produce_until_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o_.drain_s));
  for (auto& d : devices_) d->link->start();
  asio::co_spawn(io_, ticker(progress), asio::detached);
  io_.run();
  sum_.fleet.seconds = std::chrono::duration<double>(Steady::now() - start_).count();
  if (!fatal_.empty()) return fail(fatal_);
  return sum_;
}

}  // namespace

Expected<DirectSummary> run_direct_fleet(const FleetOptions& options, const DirectOptions& direct,
                                         const FleetProgress& progress) {
  if (direct.max_connecting == 0 || direct.max_inflight == 0) return fail("connection cap and window must be positive");
  DirectFleet fleet(options, direct);
  ARMORED_TRY(fleet.load());
  return fleet.run(progress);
}

}  // namespace armored::device
