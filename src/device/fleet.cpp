#include "device/fleet.h"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <deque>
#include <thread>
#include <unordered_map>

#include "common/file_io.h"
#include "common/log.h"
#include "common/rng.h"
#include "device/command_endpoint.h"
#include "crypto/cpu.h"
#include "e3/e3.h"
#include "gateway/ingress.h"
#include "provision/registry.h"
#include "telemetry/generator.h"

namespace armored::device {
namespace fs = std::filesystem;
using asio::ip::udp;
using Steady = std::chrono::steady_clock;

namespace {

struct Pending {
  Bytes message;
  Steady::time_point last_sent;
};

// One simulated wearable.
struct Device {
  std::string id;
  std::unique_ptr<e3::FileStateStore> store;
  std::optional<e3::Sealer> sealer;
  std::unique_ptr<telemetry::ReadingGenerator> gen;
  std::unique_ptr<SeededRng> rng;
  std::deque<Pending> queue;        // unanswered messages, oldest first
  bool announcement_acked = false;  // readings wait until the epoch is known to be spooled
  Steady::time_point next_reading;
  Steady::duration period{};        // interval / speedup; set_interval changes it
  std::unique_ptr<CommandEndpoint> commands;
};

Steady::duration period_of(double interval_s, double speedup) {
  return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(interval_s / speedup));
}

std::string key_of(ByteSpan header) { return std::string(reinterpret_cast<const char*>(header.data()), header.size()); }

// A datagram that is not an answer: a command for one of the devices (by
// the kid in its E3 header), or noise, which is ignored.
void handle_downlink(ByteSpan datagram, std::vector<Device>& devices,
                     const std::unordered_map<std::string, std::size_t>& by_kid, const Clock& clock, double speedup,
                     FleetSummary& sum) {
  auto h = e3::parse_header(datagram);
  if (!h || h->type != e3::MessageType::kDownlink) return;
  auto it = by_kid.find(key_of(h->kid));
  if (it == by_kid.end()) return;
  Device& d = devices[it->second];
  auto handled = d.commands->handle(*d.sealer, datagram, clock.now());
  if (!handled) {
    ++sum.commands_unopened;
    spdlog::info("fleet: device {}: downlink envelope refused: {}", d.id, handled.error().message);
    return;
  }
  ++sum.commands_received;
  const command::Reply& reply = handled->reply;
  if (reply.outcome == command::Outcome::kAccepted) {
    ++sum.commands_accepted;
  } else {
    ++sum.commands_refused;
    ++sum.refusal_reasons[command::to_string(reply.reason)];
  }
  spdlog::info("fleet: device {}: command {} {}{}", d.id, reply.command_id, command::to_string(reply.outcome),
               reply.outcome == command::Outcome::kRefused ? std::string(" ") + command::to_string(reply.reason) : "");
  for (auto& m : handled->uplink) {
    if ((m[0] >> 6) == 2) ++sum.announcements;
    d.queue.push_back({std::move(m), Steady::time_point{}});
  }
  if (handled->started_epoch) d.announcement_acked = false;
  const auto settings = d.commands->device().settings();
  const auto period = period_of(static_cast<double>(settings.interval_s), speedup);
  if (period != d.period || handled->rebooted) {
    d.period = period;
    d.next_reading = Steady::now() + period;
  }
}

}  // namespace

Expected<FleetSummary> run_fleet(const FleetOptions& o, const FleetProgress& progress) {
  if (o.devices == 0) return fail("--devices must be at least 1");
  if (!(o.interval_s > 0) || !(o.speedup > 0)) return fail("--interval and --speedup must be positive");
  auto registry = provision::load_registry(o.e3_dir);
  if (!registry) return unexpected(registry.error());
  if (registry->devices.size() < o.devices) {
    return fail("only " + std::to_string(registry->devices.size()) + " devices are enrolled in " +
                o.e3_dir.string() + "; run `armored pki fleet` and `armored enroll` for more");
  }
  auto cloud_pem = read_text_file(provision::cloud_public_key_path(o.e3_dir), 64 * 1024);
  if (!cloud_pem) return unexpected(cloud_pem.error());
  auto cloud_pub = crypto::EcPublicKey::from_pem(*cloud_pem);
  if (!cloud_pub) return fail(provision::cloud_public_key_path(o.e3_dir).string() + " is not a P-256 public key");
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  if (ec) return fail("cannot create " + o.state_dir.string() + ": " + ec.message());

  crypto::AeadAlg alg = crypto::default_aead();
  if (o.aead == "aes-128-gcm") alg = crypto::AeadAlg::kAes128Gcm;
  else if (o.aead == "aes-256-gcm") alg = crypto::AeadAlg::kAes256Gcm;
  else if (o.aead == "chacha20-poly1305") alg = crypto::AeadAlg::kChaCha20Poly1305;
  else if (o.aead == "aes-ccm-16-64-128") alg = crypto::AeadAlg::kAesCcm16_64_128;
  else if (!o.aead.empty()) return fail("unknown AEAD '" + o.aead + "'");

  const command::Schema* schema = &command::Schema::builtin();
  std::optional<command::Schema> loaded;
  if (!o.commands.empty()) {
    auto sc = command::Schema::load(o.commands);
    if (!sc) return unexpected(sc.error());
    loaded.emplace(std::move(*sc));
    schema = &*loaded;
  }
  const std::string device_type = o.device_type.empty() ? schema->default_device_type() : o.device_type;
  if (!schema->device_type(device_type)) return fail("device type '" + device_type + "' is not in the command schema");
  if (!(o.command_freshness_s > 0)) return fail("the command freshness window must be positive");
  command::ProcessorConfig pc;
  pc.freshness = std::chrono::milliseconds(static_cast<std::int64_t>(o.command_freshness_s * 1000));
  command::DeviceSettings initial;
  initial.interval_s = std::max<std::int64_t>(1, std::llround(o.interval_s));

  SystemClock clock;
  SystemRng sys_rng;
  FleetSummary sum;
  sum.devices = o.devices;
  const auto period = period_of(o.interval_s, o.speedup);
  const auto start = Steady::now();

  std::vector<Device> devices(o.devices);
  std::unordered_map<std::string, std::size_t> by_kid;
  for (std::size_t i = 0; i < o.devices; ++i) {
    const auto& enrol = registry->devices[i];
    Device& d = devices[i];
    d.id = enrol.device_id;
    auto key_pem = read_text_file(o.pki_dir / "device" / (d.id + ".key"), 64 * 1024);
    if (!key_pem) return unexpected(key_pem.error());
    auto key = crypto::EcPrivateKey::from_pem(*key_pem);
    if (!key) return fail("device " + d.id + ": its key is not a P-256 private key");
    d.store = std::make_unique<e3::FileStateStore>(o.state_dir / (d.id + ".e3"));
    d.rng = std::make_unique<SeededRng>(sys_rng.next_u64());
    e3::SealerConfig sc;
    sc.kid = enrol.kid;
    sc.alg = alg;
    sc.cloud_key_id = registry->cloud_key_id;
    auto s = e3::Sealer::create(sc, *key, *cloud_pub, clock, sys_rng, *d.store);
    if (!s) return fail("device " + d.id + ": " + s.error().message);
    d.sealer.emplace(std::move(*s));
    if (fs::exists(d.store->path(), ec)) {
      auto saved = d.store->load();
      if (!saved) return unexpected(saved.error());
      if (auto r = d.sealer->restore(*saved); !r) return fail("device " + d.id + ": " + r.error().message);
    }
    if (!d.sealer->has_epoch() || d.sealer->rotation_due()) {
      auto ann = d.sealer->start_epoch();
      if (!ann) return fail("device " + d.id + ": " + ann.error().message);
    }
    // After a restart the current announcement goes first again: the cloud
    // treats a repeat as a no-op, and a lost one must not strand the readings.
    d.queue.push_back({d.sealer->announcement(), Steady::time_point{}});
    ++sum.announcements;
    d.gen = std::make_unique<telemetry::ReadingGenerator>(*d.rng);
    d.period = period;
    d.commands = std::make_unique<CommandEndpoint>(*schema, device_type, initial, clock.now(), pc);
    // Spread first readings over one period so the fleet does not fire at once.
    d.next_reading = start + std::chrono::duration_cast<Steady::duration>(period * (static_cast<double>(i) / static_cast<double>(o.devices)));
    by_kid[key_of(enrol.kid)] = i;
  }

  asio::io_context io;
  udp::socket sock(io);
  sock.open(udp::v4(), ec);
  if (ec) return fail("cannot open a UDP socket: " + ec.message());
  sock.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  sock.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  sock.non_blocking(true);
  udp::resolver resolver(io);
  auto eps = resolver.resolve(udp::v4(), o.gateway_host, std::to_string(o.gateway_port), ec);
  if (ec || eps.empty()) return fail("cannot resolve gateway " + o.gateway_host + ": " + ec.message());
  const udp::endpoint gateway = *eps.begin();

  const auto produce_until = start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.duration_s));
  const auto give_up = produce_until + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.drain_s));
  const auto retry = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.retry_after_s));
  auto last_progress = start;
  std::vector<std::uint8_t> rx(2048);
  std::array<std::uint8_t, 256> sealed{};

  for (;;) {
    auto now = Steady::now();
    const bool producing = now < produce_until;
    std::uint64_t queued = 0;
    for (auto& d : devices) {
      if (producing && d.announcement_acked) {
        // Catch up on due readings, bounded so one slow tick cannot explode.
        for (int k = 0; k < 16 && d.next_reading <= now; ++k) {
          d.next_reading += d.period;
          if (d.sealer->rotation_due()) {
            auto ann = d.sealer->start_epoch();
            if (!ann) return fail("device " + d.id + ": " + ann.error().message);
            d.announcement_acked = false;
            d.queue.push_back({*ann, Steady::time_point{}});
            ++sum.announcements;
            break;
          }
          const auto r = d.gen->next(static_cast<std::uint32_t>(unix_seconds(clock.now())), 30);
          if (r.heart_rate_dbpm > d.commands->device().settings().alert_threshold_bpm * 10) ++sum.alerts;
          auto reading = telemetry::encode(r);
          auto n = d.sealer->seal(reading, sealed);
          if (!n) return fail("device " + d.id + ": " + n.error().message);
          ++sum.readings;
          if (d.queue.size() >= o.max_queue) {
            d.queue.pop_front();
            ++sum.dropped;
          }
          d.queue.push_back({Bytes(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(*n)), Steady::time_point{}});
        }
      }
      // Send what is new or due again; until the announcement is spooled,
      // only the announcement goes out.
      std::size_t budget = d.announcement_acked ? std::min<std::size_t>(64, d.queue.size())
                                                : std::min<std::size_t>(1, d.queue.size());
      for (std::size_t k = 0; k < budget; ++k) {
        Pending& p = d.queue[k];
        if (p.last_sent != Steady::time_point{} && now - p.last_sent < retry) continue;
        if (p.last_sent != Steady::time_point{}) ++sum.retransmissions;
        asio::error_code sec;
        sock.send_to(asio::buffer(p.message), gateway, 0, sec);
        if (sec) break;  // socket buffer full: try again next tick
        p.last_sent = now;
        ++sum.datagrams_sent;
      }
      queued += d.queue.size();
    }
    // Answers from the gateway.
    for (;;) {
      udp::endpoint from;
      asio::error_code rec;
      std::size_t n = sock.receive_from(asio::buffer(rx), from, 0, rec);
      if (rec) break;
      auto ans = gateway::parse_answer(ByteSpan(rx.data(), n));
      if (!ans) {
        handle_downlink(ByteSpan(rx.data(), n), devices, by_kid, clock, o.speedup, sum);
        continue;
      }
      // The echoed header: flags, epoch id, kid (length in the flags), PIV.
      std::size_t kid_len = ((ans->header_bytes[0] >> 3) & 0x07) + 1;
      if (ans->header_bytes.size() < 2 + kid_len) continue;
      ByteSpan kid = ans->header_bytes.subspan(2, kid_len);
      auto it = by_kid.find(key_of(kid));
      if (it == by_kid.end()) continue;
      Device& d = devices[it->second];
      for (auto q = d.queue.begin(); q != d.queue.end(); ++q) {
        if (q->message.size() >= ans->header_bytes.size() &&
            std::equal(ans->header_bytes.begin(), ans->header_bytes.end(), q->message.begin()) &&
            q->message.size() > ans->header_bytes.size()) {
          if (ans->kind == gateway::kAckRefused) {
            ++sum.refused;
            break;
          }
          const bool is_announcement = (q->message[0] >> 6) == 2;
          if (is_announcement) d.announcement_acked = true;
          d.queue.erase(q);
          ++sum.acknowledged;
          break;
        }
      }
    }
    sum.unacknowledged = queued;
    sum.seconds = std::chrono::duration<double>(now - start).count();
    if (progress && now - last_progress >= std::chrono::seconds(1)) {
      progress(sum);
      last_progress = now;
    }
    if (!producing && (queued == 0 || now >= give_up)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  sum.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  return sum;
}

}  // namespace armored::device
