#include "device/fleet.h"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <thread>
#include <unordered_map>

#include "common/file_io.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/rng.h"
#include "device/command_endpoint.h"
#include "device/device_sealer.h"
#include "device/pending_queue.h"
#include "crypto/cpu.h"
#include "e3/e3.h"
#include "link/link.h"
#include "provision/registry.h"
#include "telemetry/generator.h"
#include "udp_batch/udp_batch.h"

namespace armored::device {
namespace fs = std::filesystem;
using asio::ip::udp;
using Steady = std::chrono::steady_clock;

namespace {

struct Pending {
  MessageBytes message;
  Steady::time_point last_sent;
  std::uint8_t sends = 0;  // each re-send waits twice as long (up to 16x): late answers are not losses
  bool reading = false;    // a sealed reading (not an announcement or a command reply)
};

// One simulated wearable.
struct Device {
  std::string id;
  std::unique_ptr<DeviceSealer> sealer;
  std::unique_ptr<telemetry::ReadingGenerator> gen;
  std::unique_ptr<SeededRng> rng;
  RingQueue<Pending> queue;         // unanswered messages, oldest first
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
    if (e3::flags_type(m[0]) == e3::MessageType::kAnnouncement) ++sum.announcements;
    d.queue.push_back({MessageBytes(m), Steady::time_point{}});
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
  auto keys = load_fleet_keys(o.e3_dir, o.devices, o.aead);
  if (!keys) return unexpected(keys.error());
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  if (ec) return fail("cannot create " + o.state_dir.string() + ": " + ec.message());

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

  std::vector<Device> devices(o.devices);
  std::unordered_map<std::string, std::size_t> by_kid;
  for (std::size_t i = 0; i < o.devices; ++i) {
    const auto& enrol = keys->registry.devices[i];
    Device& d = devices[i];
    d.id = enrol.device_id;
    auto ds = open_device_sealer(o.sealer, *keys, enrol, o.pki_dir, o.state_dir, clock, sys_rng);
    if (!ds) return unexpected(ds.error());
    d.rng = std::move(ds->rng);
    d.sealer = std::move(ds->sealer);
    // After a restart the current announcement goes first again: the cloud
    // treats a repeat as a no-op, and a lost one must not strand the readings.
    d.queue.push_back({MessageBytes(d.sealer->announcement()), Steady::time_point{}});
    ++sum.announcements;
    d.gen = std::make_unique<telemetry::ReadingGenerator>(*d.rng);
    d.period = period;
    d.commands = std::make_unique<CommandEndpoint>(*schema, device_type, initial, clock.now(), pc);
    by_kid[key_of(enrol.kid)] = i;
  }
  // The clock starts once every device is loaded (seconds for a large
  // fleet): started before, every device would begin behind schedule and
  // the first pass would send a burst of catch-up readings.
  const auto start = Steady::now();
  for (std::size_t i = 0; i < o.devices; ++i) {
    // Spread first readings over one period so the fleet does not fire at once.
    devices[i].next_reading =
        start + std::chrono::duration_cast<Steady::duration>(period * (static_cast<double>(i) / static_cast<double>(o.devices)));
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
  bool envelope_saved = false;
  const auto give_up = produce_until + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.drain_s));
  const auto retry = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.retry_after_s));
  auto last_progress = start;
  // Answers from the gateway, udp_batch::kMaxBatch per recvmmsg; drained often enough
  // (also between devices while sending) that the socket buffer never
  // overflows, which would turn answers into re-sends and duplicates.
  udp_batch::Receiver rx(2048);
  udp_batch::Sender tx(link::kMaxDatagram, o.gso);
  const int fd = sock.native_handle();
  // One answer (single or an entry of a packed answer): forget the message
  // it echoes the header of, or count the refusal.
  auto on_answer = [&](const link::Answer& ans) -> void {
    // The echoed header: flags, epoch id, kid (length in the flags), PIV.
    const std::size_t kid_len = e3::flags_kid_size(ans.header_bytes[0]);
    if (ans.header_bytes.size() < 2 + kid_len) return;
    ByteSpan kid = ans.header_bytes.subspan(2, kid_len);
    auto it = by_kid.find(key_of(kid));
    if (it == by_kid.end()) return;
    Device& d = devices[it->second];
    for (std::size_t qi = 0; qi < d.queue.size(); ++qi) {
      const MessageBytes& q = d.queue[qi].message;
      if (q.size() > ans.header_bytes.size() &&
          std::equal(ans.header_bytes.begin(), ans.header_bytes.end(), q.begin())) {
        if (ans.kind == link::kAckRefused) {
          ++sum.refused;
          break;
        }
        const bool is_announcement = e3::flags_type(q[0]) == e3::MessageType::kAnnouncement;
        if (is_announcement) d.announcement_acked = true;
        if (d.queue[qi].reading) ++sum.readings_acknowledged;
        d.queue.erase(qi);
        ++sum.acknowledged;
        break;
      }
    }
  };
  // The gateway answers in single or packed form (link/link.h).
  std::array<link::Answer, link::kMaxAnswersPerDatagram> answers{};
  link::AnswerStats answer_stats;
  auto drain_answers = [&]() -> void {
    for (;;) {
      const std::size_t got = rx.receive(fd);
      for (std::size_t i = 0; i < got; ++i) {
        if (rx.truncated(i)) continue;
        auto n = link::parse_answers(rx.data(i), answers, &answer_stats);
        if (!n) {
          // Not an answer: a command relayed by the gateway, or noise. A
          // malformed answer is dropped (counted in answer_stats.rejected):
          // the message it meant to answer is simply sent again.
          if (n.error() == link::AnswerError::kNotAnswer) handle_downlink(rx.data(i), devices, by_kid, clock, o.speedup, sum);
          continue;
        }
        for (std::size_t k = 0; k < *n; ++k) on_answer(answers[k]);
      }
      if (got < udp_batch::kMaxBatch) break;
    }
  };
  std::array<std::uint8_t, 256> sealed{};

  for (;;) {
    auto now = Steady::now();
    if (o.stop_requested && o.stop_requested->load(std::memory_order_relaxed)) {
      sum.stopped = true;
      std::uint64_t queued = 0;
      for (const auto& d : devices) queued += d.queue.size();
      sum.unacknowledged = queued;
      break;
    }
    const bool producing = now < produce_until;
    // Readings carry whole seconds: one clock read per pass over the fleet.
    const auto wall_s = static_cast<std::uint32_t>(unix_seconds(clock.now()));
    std::uint64_t queued = 0;
    std::size_t since_drain = 0;
    for (auto& d : devices) {
      if (producing && d.announcement_acked) {
        // Catch up on due readings, bounded so one slow tick cannot explode.
        for (int k = 0; k < 16 && d.next_reading <= now; ++k) {
          d.next_reading += d.period;
          if (d.sealer->rotation_due()) {
            auto ann = d.sealer->start_epoch();
            if (!ann) return fail("device " + d.id + ": " + ann.error().message);
            d.announcement_acked = false;
            d.queue.push_back({MessageBytes(*ann), Steady::time_point{}});
            ++sum.announcements;
            break;
          }
          const auto r = d.gen->next(wall_s, 30);
          if (r.heart_rate_dbpm > d.commands->device().settings().alert_threshold_bpm * 10) ++sum.alerts;
          auto reading = telemetry::encode(r);
          auto n = d.sealer->seal(reading, sealed);
          if (!n) return fail("device " + d.id + ": " + n.error().message);
          if (!envelope_saved && !o.save_envelope.empty()) {
            const std::string hex = to_hex(ByteSpan(sealed.data(), *n)) + "\n";
            if (auto w = write_file_atomic(o.save_envelope, as_bytes(hex), 0644); !w) {
              return fail("--save-envelope: " + w.error().message);
            }
            envelope_saved = true;
          }
          ++sum.readings;
          if (d.queue.size() >= o.max_queue) {
            d.queue.pop_front();
            ++sum.dropped;
          }
          d.queue.push_back({MessageBytes(ByteSpan(sealed.data(), *n)), Steady::time_point{}, 0, true});
        }
      }
      // Send what is new or due again; until the announcement is spooled,
      // only the announcement goes out.
      std::size_t budget = d.announcement_acked ? std::min<std::size_t>(64, d.queue.size())
                                                : std::min<std::size_t>(1, d.queue.size());
      for (std::size_t k = 0; k < budget; ++k) {
        Pending& p = d.queue[k];
        if (p.last_sent != Steady::time_point{} &&
            now - p.last_sent < retry * (1 << std::min<int>(p.sends - 1, 4))) {
          continue;
        }
        if (p.last_sent != Steady::time_point{}) ++sum.retransmissions;
        tx.add(fd, p.message.span(), gateway.data(), static_cast<socklen_t>(gateway.size()));
        p.last_sent = now;
        if (p.sends < 255) ++p.sends;
        ++sum.datagrams_sent;
      }
      queued += d.queue.size();
      if (++since_drain == 256) {
        since_drain = 0;
        tx.flush(fd);
        drain_answers();
      }
    }
    tx.flush(fd);
    drain_answers();
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
