#include "device/fleet.h"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <thread>
#include <unordered_map>

#include "common/file_io.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/rng.h"
#include "device/internal/command_endpoint.h"
#include "device/device_sealer.h"
#include "device/internal/simulated_wearable.h"
#include "crypto/cpu.h"
#include "e3/e3.h"
#include "link/link.h"
#include "provision/registry.h"
#include "telemetry/generator.h"
#include "udp_batch/udp_batch.h"

namespace armored::device {
namespace fs = std::filesystem;
using asio::ip::udp;

namespace {

// One simulated wearable (internal/simulated_wearable.h) and the commands it takes.
struct Device {
  SimulatedWearable sim;
  std::unique_ptr<CommandEndpoint> commands;
};

std::string key_of(ByteSpan header) { return std::string(reinterpret_cast<const char*>(header.data()), header.size()); }

// A datagram that is not an answer: a command for one of the devices (by
// the kid in its E3 header), or noise, which is ignored.
void handle_downlink(ByteSpan datagram, std::vector<std::unique_ptr<Device>>& devices,
                     const std::unordered_map<std::string, std::size_t>& by_kid, const Clock& clock, double speedup,
                     FleetSummary& sum) {
  auto h = e3::parse_header(datagram);
  if (!h || h->type != e3::MessageType::kDownlink) return;
  auto it = by_kid.find(key_of(h->kid));
  if (it == by_kid.end()) return;
  Device& d = *devices[it->second];
  auto handled = d.commands->handle(d.sim.sealer(), datagram, clock.now());
  if (!handled) {
    ++sum.commands_unopened;
    spdlog::info("fleet: device {}: downlink envelope refused: {}", d.sim.id(), handled.error().message);
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
  spdlog::info("fleet: device {}: command {} {}{}", d.sim.id(), reply.command_id, command::to_string(reply.outcome),
               reply.outcome == command::Outcome::kRefused ? std::string(" ") + command::to_string(reply.reason) : "");
  // A new epoch's announcement among them holds back what follows it.
  for (auto& m : handled->uplink) d.sim.queue_message(m);
  const auto settings = d.commands->device().settings();
  const auto period = period_of(static_cast<double>(settings.interval_s), speedup);
  if (period != d.sim.period() || handled->rebooted) d.sim.restart_schedule(Steady::now(), period);
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

  std::vector<std::unique_ptr<Device>> devices;
  std::vector<SimulatedWearable*> sims;
  std::unordered_map<std::string, std::size_t> by_kid;
  for (std::size_t i = 0; i < o.devices; ++i) {
    const auto& enrol = keys->registry.devices[i];
    auto ds = open_device_sealer(o.sealer, *keys, enrol, o.pki_dir, o.state_dir, clock, sys_rng);
    if (!ds) return unexpected(ds.error());
    devices.push_back(std::make_unique<Device>(Device{SimulatedWearable(enrol.device_id, std::move(*ds), o.max_queue, sum),
                                                      std::make_unique<CommandEndpoint>(*schema, device_type, initial,
                                                                                        clock.now(), pc)}));
    sims.push_back(&devices.back()->sim);
    by_kid[key_of(enrol.kid)] = i;
  }
  const auto start = start_schedules(sims, period);

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
    SimulatedWearable& d = devices[it->second]->sim;
    auto& queue = d.queue();
    for (std::size_t qi = 0; qi < queue.size(); ++qi) {
      const MessageBytes& q = queue[qi].message;
      if (q.size() > ans.header_bytes.size() &&
          std::equal(ans.header_bytes.begin(), ans.header_bytes.end(), q.begin())) {
        if (ans.kind == link::kAckRefused) {
          ++sum.refused;
          break;
        }
        d.confirm(qi);
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
  // Per reading: alerts against its device's threshold, and --save-envelope.
  std::int64_t alert_dbpm = 0;  // of the device producing
  const SimulatedWearable::ReadingHook on_reading = [&](const telemetry::Reading& r, ByteSpan sealed) -> Status {
    if (r.heart_rate_dbpm > alert_dbpm) ++sum.alerts;
    if (!envelope_saved && !o.save_envelope.empty()) {
      const std::string hex = to_hex(sealed) + "\n";
      if (auto w = write_file_atomic(o.save_envelope, as_bytes(hex), 0644); !w) {
        return fail("--save-envelope", w.error());
      }
      envelope_saved = true;
    }
    return {};
  };

  for (;;) {
    auto now = Steady::now();
    if (o.stop_requested && o.stop_requested->load(std::memory_order_relaxed)) {
      sum.stopped = true;
      std::uint64_t queued = 0;
      for (const auto& d : devices) queued += d->sim.queued();
      sum.unacknowledged = queued;
      break;
    }
    const bool producing = now < produce_until;
    // Readings carry whole seconds: one clock read per pass over the fleet.
    const auto wall_s = static_cast<std::uint32_t>(unix_seconds(clock.now()));
    std::uint64_t queued = 0;
    std::size_t since_drain = 0;
    for (auto& dev : devices) {
      SimulatedWearable& d = dev->sim;
      if (producing) {
        alert_dbpm = dev->commands->device().settings().alert_threshold_bpm * 10;
        if (auto made = d.produce(now, wall_s, on_reading); !made) return unexpected(made.error());
      }
      // Send what is new or due again, nothing behind an unconfirmed
      // announcement. Each re-send waits twice as long (up to 16x): late
      // answers are not losses.
      auto& queue = d.queue();
      const std::size_t budget = d.sendable(64);
      for (std::size_t k = 0; k < budget; ++k) {
        Outgoing& p = queue[k];
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
      queued += d.queued();
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
