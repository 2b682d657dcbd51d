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

struct Queued {
  Bytes message;
  std::uint16_t packet_id = 0;  // 0: not published on the current connection
};

// One wearable with its own TLS identity and MQTT session.
struct DirectDevice {
  std::string id;
  std::string topic;
  std::unique_ptr<DeviceSealer> sealer;
  std::unique_ptr<SeededRng> rng;
  std::unique_ptr<telemetry::ReadingGenerator> gen;
  std::unique_ptr<tls::TlsContext> tls;
  std::unique_ptr<tls::SessionStore> tickets;
  std::deque<Queued> queue;  // unacknowledged messages, oldest first
  std::unique_ptr<mqtt_link::ClientLink> link;
  Steady::time_point next_reading;
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
  Status produce(DirectDevice& d, Steady::time_point now);

  const FleetOptions& o_;
  const DirectOptions& d_;
  SystemClock clock_;
  SystemRng sys_rng_;
  asio::io_context io_;
  std::vector<DirectDevice> devices_;
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

  period_ = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o_.interval_s / o_.speedup));
  start_ = Steady::now();
  devices_.resize(o_.devices);
  for (std::size_t i = 0; i < o_.devices; ++i) {
    const auto& enrol = keys->registry.devices[i];
    DirectDevice& d = devices_[i];
    d.id = enrol.device_id;
    d.topic = topics::uplink_topic(d.id);
    const fs::path key_path = o_.pki_dir / "device" / (d.id + ".key");
    auto ds = open_device_sealer(o_.sealer, *keys, enrol, o_.pki_dir, o_.state_dir, clock_, sys_rng_);
    if (!ds) return unexpected(ds.error());
    d.rng = std::move(ds->rng);
    d.sealer = std::move(ds->sealer);
    // The current announcement goes first (again, after a restart): the
    // cloud treats a repeat as a no-op.
    d.queue.push_back({d.sealer->announcement(), 0});
    ++sum_.fleet.announcements;
    d.gen = std::make_unique<telemetry::ReadingGenerator>(*d.rng);
    d.next_reading = start_ + std::chrono::duration_cast<Steady::duration>(
                                  period_ * (static_cast<double>(i) / static_cast<double>(o_.devices)));

    tls::TlsConfig tc;
    tc.role = tls::Role::kClient;
    tc.ca_file = o_.pki_dir / "root-ca.crt";
    tc.cert_chain = o_.pki_dir / "device" / (d.id + ".crt");
    tc.key_file = key_path;
    tc.intermediates = o_.pki_dir / "issuing-ca.crt";
    auto ctx = tls::TlsContext::create(tc, clock_);
    if (!ctx) return fail("device " + d.id + ": " + ctx.error().message);
    d.tls = std::move(*ctx);
    const fs::path tdir = o_.state_dir / "tickets" / d.id;
    fs::create_directories(tdir, ec);
    fs::permissions(tdir, fs::perms::owner_all, ec);
    d.tickets = std::make_unique<tls::SessionStore>(tdir, clock_, std::chrono::seconds(7200));
    make_link(d);
  }
  sum_.fleet.devices = o_.devices;
  return {};
}

Status DirectFleet::produce(DirectDevice& d, Steady::time_point now) {
  std::array<std::uint8_t, 256> sealed{};
  // Catch up on due readings, bounded so one slow tick cannot explode.
  for (int k = 0; k < 16 && d.next_reading <= now; ++k) {
    d.next_reading += period_;
    if (d.sealer->rotation_due()) {
      auto ann = d.sealer->start_epoch();
      if (!ann) return fail("device " + d.id + ": " + ann.error().message);
      d.queue.push_back({*ann, 0});
      ++sum_.fleet.announcements;
    }
    auto reading = telemetry::encode(d.gen->next(static_cast<std::uint32_t>(unix_seconds(clock_.now())), 30));
    auto n = d.sealer->seal(reading, sealed);
    if (!n) return fail("device " + d.id + ": " + n.error().message);
    ++sum_.fleet.readings;
    if (d.queue.size() >= o_.max_queue) {
      // Never drop the announcement at the front: the readings depend on it.
      auto victim = d.queue.size() > 1 ? d.queue.begin() + 1 : d.queue.begin();
      d.queue.erase(victim);
      ++sum_.fleet.dropped;
    }
    d.queue.push_back({Bytes(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(*n)), 0});
  }
  return {};
}

void DirectFleet::make_link(DirectDevice& d) {
  mqtt_link::LinkOptions o;
  o.host = d_.cloud_host;
  o.port = d_.cloud_port;
  o.mqtt.client_id = d.id;
  o.mqtt.keep_alive_s = d_.keep_alive_s;
  o.mqtt.max_inflight = d_.max_inflight;
  o.backoff_initial = std::chrono::milliseconds(200);
  o.backoff_max = std::chrono::milliseconds(10000);
  o.tickets = d.tickets.get();
  o.limiter = &limiter_;
  o.log_name = "fleet: device " + d.id;
  mqtt_link::LinkHandler h;
  // A new session: everything unacknowledged goes again once it is connected.
  h.on_session = [&d](std::size_t) {
    for (auto& q : d.queue) q.packet_id = 0;
  };
  h.on_handshake = [this](const tls::HandshakeComplete& hc) {
    ++sum_.connects;
    if (hc.resumed) ++sum_.resumed;
  };
  h.on_events = [this, &d](std::span<const mqtt::ClientEvent> events) { on_mqtt(d, events); };
  h.on_down = [this, &d](const mqtt_link::LinkDown& down) {
    spdlog::debug("fleet: device {}: link ended: {}", d.id, down.reason);
    if (down.stage != mqtt_link::LinkDown::Stage::kSession) ++sum_.connect_failures;
  };
  d.link = std::make_unique<mqtt_link::ClientLink>(io_, *d.tls, clock_, *d.rng, std::move(o), std::move(h));
}

void DirectFleet::publish_queued(DirectDevice& d) {
  if (!d.link->connected()) return;
  mqtt::ClientSession& session = *d.link->session();
  for (auto& q : d.queue) {
    if (q.packet_id != 0) continue;
    auto id = session.publish(d.topic, q.message, mqtt::QoS::kAtLeastOnce, false, d.link->now());
    if (!id) break;  // window full
    q.packet_id = *id;
    ++sum_.fleet.datagrams_sent;
  }
  d.link->flush();
}

void DirectFleet::on_mqtt(DirectDevice& d, std::span<const mqtt::ClientEvent> events) {
  using K = mqtt::ClientEvent::Kind;
  for (const auto& ev : events) {
    if (ev.kind == K::kPublishAcked) {
      for (auto it = d.queue.begin(); it != d.queue.end(); ++it) {
        if (it->packet_id == ev.packet_id) {
          d.queue.erase(it);
          ++sum_.fleet.acknowledged;
          break;
        }
      }
    } else if (ev.kind == K::kClosed && ev.error) {
      spdlog::debug("fleet: device {}: MQTT session closed: {}", d.id, ev.error->message);
    }
  }
  publish_queued(d);
}

asio::awaitable<void> DirectFleet::ticker(const FleetProgress& progress) {
  asio::steady_timer t(io_);
  auto last_progress = start_;
  for (;;) {
    const auto now = Steady::now();
    const bool producing = now < produce_until_;
    std::uint64_t queued = 0;
    for (auto& d : devices_) {
      if (producing) {
        if (auto s = produce(d, now); !s) {
          fatal_ = s.error().message;
          stopping_ = true;
        }
      }
      publish_queued(d);  // what produce() added
      queued += d.queue.size();
    }
    sum_.fleet.unacknowledged = queued;
    sum_.fleet.seconds = std::chrono::duration<double>(now - start_).count();
    if (progress && now - last_progress >= std::chrono::seconds(1)) {
      progress(sum_.fleet);
      last_progress = now;
    }
    if (stopping_ || (!producing && (queued == 0 || now >= give_up_))) break;
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(kNoThrow);
  }
  // Done: say goodbye on every open session and let the links close.
  stopping_ = true;
  for (auto& d : devices_) d.link->stop();
}

Expected<DirectSummary> DirectFleet::run(const FleetProgress& progress) {
  produce_until_ = start_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o_.duration_s));
  give_up_ = produce_until_ + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o_.drain_s));
  for (auto& d : devices_) d.link->start();
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
