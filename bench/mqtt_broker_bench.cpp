// QoS 1 publish throughput into a real Mosquitto broker over loopback TCP:
// our ClientSession (sans-I/O, driven by a plain socket loop here) against
// Mosquitto's own C client (mosquitto_pub -l -q 1) in the same run, same
// broker, same 96-byte payloads. Prints messages per second for each.
//   build/release/bench/mqtt_broker_bench [messages]
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "mqtt/mqtt.h"
#include "support/process.h"
#include "tcp_test_socket.h"

using namespace armored;
using namespace armored::mqtt;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Publishes `count` QoS 1 messages through a window; returns seconds from
// the first PUBLISH to the last PUBACK, or a negative value on failure.
double run_ours(int port, int count, std::size_t window) {
  auto sock = test::TcpSocket::connect_loopback(port);
  ClientOptions o;
  o.client_id = "armored-bench-" + std::to_string(window);
  o.max_inflight = window;
  ClientSession s(o);
  const auto t0 = Clock::now();
  auto now = [&] { return Clock::now() - t0; };
  if (!sock.valid() || !s.connect(now())) return -1;
  const std::string payload(96, 'r');
  Bytes buf(64 * 1024);
  int sent = 0;
  int acked = 0;
  bool connected = false;
  Clock::time_point start;
  while (acked < count) {
    if (connected) {
      while (sent < count &&
             s.publish("armored/bench/up", as_bytes(payload), QoS::kAtLeastOnce, false, now())) {
        ++sent;
      }
    }
    auto out = s.pending_output();
    if (!out.empty()) {
      if (!sock.send_all(out)) return -1;
      s.consume_output(out.size());
    }
    // Blocking read into a reused buffer: one syscall per batch of PUBACKs.
    const ssize_t n = ::recv(sock.fd(), buf.data(), buf.size(), 0);
    if (n <= 0) return -1;
    for (const auto& e : s.receive(ByteSpan(buf).first(static_cast<std::size_t>(n)), now())) {
      if (e.kind == ClientEvent::Kind::kConnected) {
        connected = true;
        start = Clock::now();
      }
      if (e.kind == ClientEvent::Kind::kPublishAcked) ++acked;
      if (e.kind == ClientEvent::Kind::kClosed) return -1;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  (void)s.disconnect(now());
  sock.send_all(s.pending_output());
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::stoi(argv[1]) : 100'000;
  if (!testing::have_program("mosquitto") || !testing::have_program("mosquitto_pub")) {
    std::printf("mqtt_broker_bench: mosquitto not installed, skipped\n");
    return 0;
  }
  testing::TempDir dir;
  const int port = testing::free_tcp_port();
  std::ofstream(dir / "m.conf") << "listener " << port << " 127.0.0.1\nallow_anonymous true\n"
                                << "persistence false\n";
  testing::Subprocess broker({"mosquitto", "-c", (dir / "m.conf").string()});
  if (!testing::wait_for_tcp_port(port)) {
    std::printf("mqtt_broker_bench: broker did not start\n");
    return 1;
  }
  {
    std::ofstream lines(dir / "lines.txt");
    for (int i = 0; i < count; ++i) lines << std::string(96, 'r') << '\n';
  }
  std::printf("QoS 1 PUBLISH, 96-byte payload, %d messages, mosquitto on 127.0.0.1 (plain TCP)\n",
              count);
  for (std::size_t window : {std::size_t{1}, std::size_t{20}, std::size_t{64}}) {
    const double secs = run_ours(port, window == 1 ? count / 10 : count, window);
    const int n = window == 1 ? count / 10 : count;
    if (secs <= 0) {
      std::printf("  armored ClientSession window %-3zu  FAILED\n", window);
      continue;
    }
    std::printf("  armored ClientSession window %-3zu  %9.0f msg/s  (%d in %.3f s)\n", window,
                n / secs, n, secs);
  }
  // Reference: Mosquitto's own client, one message per stdin line (its
  // default in-flight window is 20), timed end to end including connect.
  const auto t0 = Clock::now();
  testing::Subprocess::Options o;
  o.stdin_path = dir / "lines.txt";
  testing::Subprocess pub({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-q",
                           "1", "-t", "armored/bench/ref", "-l"},
                          o);
  auto status = pub.wait(300s);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!status || *status != 0) {
    std::printf("  reference mosquitto_pub -l -q 1   FAILED\n");
    return 1;
  }
  std::printf("  reference mosquitto_pub -l -q 1    %9.0f msg/s  (%d in %.3f s)\n", count / secs,
              count, secs);
  return 0;
}
