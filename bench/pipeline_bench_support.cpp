#include "pipeline_bench_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "common/file_io.h"
#include "common/rng.h"
#include "crypto/ec.h"
#include "e3/e3.h"
#include "link/link.h"
#include "mqtt/mqtt.h"
#include "provision/registry.h"
#include "support/process.h"
#include "tcp_test_socket.h"
#include "telemetry/generator.h"
#include "tls/connection.h"
#include "tls/context.h"

namespace armored::bench {
namespace fs = std::filesystem;

bool armored_step(const std::string& bench, const std::string& armored, const fs::path& dir,
                  std::vector<std::string> argv, std::chrono::seconds timeout) {
  argv.insert(argv.begin(), armored);
  testing::Subprocess::Options o;
  o.cwd = dir;
  o.stderr_path = dir / "setup.err";
  testing::Subprocess p(argv, o);
  auto code = p.wait(timeout);
  if (!code || *code != 0) {
    std::fprintf(stderr, "%s: %s failed: %s\n", bench.c_str(), argv[1].c_str(),
                 testing::slurp(dir / "setup.err").c_str());
    return false;
  }
  return true;
}

void write_text(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::trunc) << s; }

bool wait_for(const fs::path& file, const std::string& needle, std::chrono::seconds timeout) {
  const auto until = Steady::now() + timeout;
  while (Steady::now() < until) {
    if (testing::slurp(file).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int port_after(const std::string& text, const std::string& marker) {
  auto p = text.find(marker);
  if (p == std::string::npos) return 0;
  auto colon = text.find(':', p + marker.size());
  return colon == std::string::npos ? 0 : std::atoi(text.c_str() + colon + 1);
}

std::uint64_t proc_status_kb(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream in(line.substr(key.size()));
      std::uint64_t kb = 0;
      in >> kb;
      return kb;
    }
  }
  return 0;
}

double proc_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after ") ".
  auto close = all.rfind(") ");
  if (close == std::string::npos) return -1;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

RssSampler::RssSampler(std::vector<Proc> procs, std::chrono::milliseconds period)
    : procs_(std::move(procs)), period_(period), rss_(procs_.size()), hwm_(procs_.size()) {
  thread_ = std::thread([this] { loop(); });
}

RssSampler::~RssSampler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void RssSampler::loop() {
  while (!stop_) {
    {
      std::lock_guard lk(mu_);
      for (std::size_t i = 0; i < procs_.size(); ++i) {
        const auto rss = proc_status_kb(procs_[i].pid, "VmRSS");
        const auto hwm = proc_status_kb(procs_[i].pid, "VmHWM");
        if (rss == 0) continue;  // exited
        rss_[i].push_back(rss);
        hwm_[i] = std::max(hwm_[i], hwm);
      }
    }
    std::this_thread::sleep_for(period_);
  }
}

std::vector<RssSampler::Figures> RssSampler::finish() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::vector<Figures> out;
  for (std::size_t i = 0; i < procs_.size(); ++i) {
    Figures f;
    f.name = procs_[i].name;
    f.hwm_kb = hwm_[i];
    const auto& s = rss_[i];
    f.samples = s.size();
    const std::size_t half = s.size() / 2;
    for (std::size_t k = 0; k < s.size(); ++k) {
      auto& peak = k < half ? f.first_half_kb : f.second_half_kb;
      peak = std::max(peak, s[k]);
    }
    out.push_back(f);
  }
  return out;
}

Count count_readings(const fs::path& db) {
  Count c;  // rows -1 until a count succeeds
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return c;
  }
  sqlite3_busy_timeout(h, 5000);
  sqlite3_stmt* st = nullptr;
  // A reader can be refused for a moment while the writer restarts the WAL:
  // try again rather than report an empty table.
  for (int attempt = 0; attempt < 5 && c.rows < 0; ++attempt) {
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM readings", -1, &st, nullptr) == SQLITE_OK) {
      c.at = Steady::now();  // the read transaction (snapshot) starts with the first step
      if (sqlite3_step(st) == SQLITE_ROW) c.rows = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = nullptr;
  }
  if (c.rows < 0) {
    std::fprintf(stderr, "pipeline_bench: cannot count %s: %s\n", db.c_str(), sqlite3_errmsg(h));
    c.rows = 0;
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return c;
}

// ---------------------------------------------------------------------------
// Latency probe

LatencyProbe::LatencyProbe(Options o) : o_(std::move(o)) {}
LatencyProbe::~LatencyProbe() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}
void LatencyProbe::start() {
  thread_ = std::thread([this] { loop(); });
}
std::vector<double> LatencyProbe::finish(std::size_t* unseen) {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (unseen) *unseen = unseen_;
  return latencies_;
}
std::string LatencyProbe::error() const { return error_; }

void LatencyProbe::loop() {
  auto registry = provision::load_registry(o_.e3_dir);
  const provision::Enrolment* found = registry ? registry->find_device(o_.device_id) : nullptr;
  if (!found) {
    error_ = "probe: " + o_.device_id + " is not enrolled";
    return;
  }
  const auto& enrol = *found;
  auto key_pem = read_text_file(o_.pki_dir / "device" / (enrol.device_id + ".key"), 64 * 1024);
  auto cloud_pem = read_text_file(provision::cloud_public_key_path(o_.e3_dir), 64 * 1024);
  if (!key_pem || !cloud_pem) {
    error_ = "probe: cannot read keys";
    return;
  }
  auto key = crypto::EcPrivateKey::from_pem(*key_pem);
  auto cloud = crypto::EcPublicKey::from_pem(*cloud_pem);
  if (!key || !cloud) {
    error_ = "probe: bad keys";
    return;
  }
  SystemClock clock;
  SystemRng rng;
  fs::create_directories(o_.state_dir);
  e3::FileStateStore store(o_.state_dir / (enrol.device_id + ".e3"));
  e3::SealerConfig sc;
  sc.kid = enrol.kid;
  sc.cloud_key_id = registry->cloud_key_id;
  auto sealer = e3::Sealer::create(sc, *key, *cloud, clock, rng, store);
  if (!sealer) {
    error_ = std::string("probe: ") + sealer.error().message;
    return;
  }
  // A probe of an earlier phase left its state here: continue from it, so
  // the new epoch gets the next id instead of a second, conflicting epoch 1.
  std::error_code exists_ec;
  if (fs::exists(store.path(), exists_ec)) {
    auto saved = store.load();
    if (!saved || !sealer->restore(*saved)) {
      error_ = "probe: cannot restore its saved E3 state";
      return;
    }
  }
  auto ann = sealer->start_epoch();
  if (!ann) {
    error_ = std::string("probe: ") + ann.error().message;
    return;
  }
  telemetry::ReadingGenerator gen(rng);

  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in gw{};
  gw.sin_family = AF_INET;
  gw.sin_port = htons(o_.gateway_port);
  gw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send = [&](const Bytes& m) {
    (void)::sendto(fd, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&gw), sizeof gw);
  };
  sqlite3* db = nullptr;

  // The announcement must be spooled before readings mean anything.
  bool announced = false;
  std::uint8_t rx[link::kMaxPackedAnswer + 1];
  for (int tries = 0; tries < 200 && !announced && !stop_; ++tries) {
    send(*ann);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      auto n = ::recv(fd, rx, sizeof rx, 0);
      std::array<link::Answer, link::kMaxAnswersPerDatagram> got{};
      auto k = link::parse_answers(ByteSpan(rx, n > 0 ? static_cast<std::size_t>(n) : 0), got);
      if (k && *k > 0 && got[0].kind == link::kAckSpooled) announced = true;
    }
  }
  if (!announced) {
    error_ = "probe: the gateway never spooled the announcement";
    ::close(fd);
    return;
  }

  struct Outstanding {
    std::int64_t ts;
    std::uint32_t epoch;
    std::uint64_t seq;
    Bytes message;
    Steady::time_point sealed, last_sent;
    bool spooled = false;
  };
  std::deque<Outstanding> outstanding;
  sqlite3_stmt* lookup = nullptr;
  auto next_seal = Steady::now();
  std::array<std::uint8_t, 256> sealed{};
  while (!stop_) {
    const auto now = Steady::now();
    if (sealing_ && now >= next_seal && outstanding.size() < 200) {
      ++sealed_;
      next_seal += o_.period;
      const auto ts = unix_seconds(clock.now());
      auto reading = telemetry::encode(gen.next(static_cast<std::uint32_t>(ts), 30));
      auto n = sealer->seal(reading, sealed);
      if (!n) {
        error_ = std::string("probe: ") + n.error().message;
        break;
      }
      Bytes m(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(*n));
      auto h = e3::parse_header(m);
      outstanding.push_back({ts, sealer->epoch(), h->sequence, m, now, now, false});
      send(m);
    }
    // Answers: mark spooled; re-send what the gateway did not take.
    for (;;) {
      auto n = ::recv(fd, rx, sizeof rx, 0);
      if (n <= 0) break;
      // Single or packed (link/link.h): the probe's messages may share a burst.
      std::array<link::Answer, link::kMaxAnswersPerDatagram> got{};
      auto k = link::parse_answers(ByteSpan(rx, static_cast<std::size_t>(n)), got);
      if (!k) continue;
      for (std::size_t a = 0; a < *k; ++a) {
        if (got[a].kind != link::kAckSpooled) continue;
        const ByteSpan h = got[a].header_bytes;
        for (auto& o : outstanding) {
          if (o.message.size() > h.size() && std::equal(h.begin(), h.end(), o.message.begin())) {
            o.spooled = true;
            break;
          }
        }
      }
    }
    for (auto& o : outstanding) {
      if (!o.spooled && now - o.last_sent > std::chrono::milliseconds(500)) {
        send(o.message);
        o.last_sent = now;
      }
    }
    // Point lookups on the primary key (ts, device, epoch, seq).
    if (!db) {
      if (sqlite3_open_v2(o_.db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
          sqlite3_prepare_v2(db, "SELECT 1 FROM readings WHERE ts = ? AND device = ? AND epoch = ? AND seq = ?",
                             -1, &lookup, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        db = nullptr;
      } else {
        sqlite3_busy_timeout(db, 1000);
      }
    }
    if (db) {
      while (!outstanding.empty()) {
        auto& o = outstanding.front();
        sqlite3_reset(lookup);
        sqlite3_bind_int64(lookup, 1, o.ts);
        sqlite3_bind_text(lookup, 2, enrol.device_id.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_int64(lookup, 3, o.epoch);
        sqlite3_bind_int64(lookup, 4, static_cast<std::int64_t>(o.seq));
        const auto at = Steady::now();
        if (sqlite3_step(lookup) != SQLITE_ROW) break;  // in order: later ones are not there either
        latencies_.push_back(std::chrono::duration<double, std::milli>(at - o.sealed).count());
        outstanding.pop_front();
      }
    }
    outstanding_ = outstanding.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  unseen_ = outstanding.size();
  sqlite3_finalize(lookup);
  sqlite3_close(db);
  ::close(fd);
}

// ---------------------------------------------------------------------------
// Mosquitto reference

double mosquitto_reference_rate(const fs::path& pki, const fs::path& work, double seconds, std::size_t window,
                                std::string* detail) {
  using namespace std::chrono_literals;
  if (!testing::have_program("mosquitto")) {
    *detail = "mosquitto not installed";
    return -1;
  }
  const int port = testing::free_tcp_port();
  {
    std::ofstream chain(work / "mosq-server-chain.crt");
    chain << testing::slurp(pki / "cloud" / "cloud.crt") << testing::slurp(pki / "issuing-ca.crt");
    std::ofstream conf(work / "mosquitto.conf");
    conf << "listener " << port << " 127.0.0.1\n"
         << "cafile " << (pki / "root-ca.crt").string() << "\n"
         << "certfile " << (work / "mosq-server-chain.crt").string() << "\n"
         << "keyfile " << (pki / "cloud" / "cloud.key").string() << "\n"
         << "require_certificate true\ntls_version tlsv1.3\nallow_anonymous true\npersistence false\n"
         // The PKI's keys are 0600 and ours: the broker keeps our user to read them.
         << "user " << (::getuid() == 0 ? "root" : "") << "\n"
         << "max_inflight_messages 0\nmax_queued_messages 0\n";
  }
  testing::Subprocess::Options po;
  po.stderr_path = work / "mosquitto.err";
  testing::Subprocess broker({"mosquitto", "-c", (work / "mosquitto.conf").string()}, po);
  if (!testing::wait_for_tcp_port(port)) {
    *detail = "mosquitto did not start: " + testing::slurp(work / "mosquitto.err");
    return -1;
  }
  SystemClock clock;
  tls::TlsConfig tc;
  tc.role = tls::Role::kClient;
  tc.ca_file = pki / "root-ca.crt";
  tc.cert_chain = pki / "gateway" / "gw1.crt";
  tc.key_file = pki / "gateway" / "gw1.key";
  tc.intermediates = pki / "issuing-ca.crt";
  auto ctx = tls::TlsContext::create(tc, clock);
  if (!ctx) {
    *detail = ctx.error().message;
    return -1;
  }
  tls::ClientOptions co;
  co.server_name = "localhost";
  auto conn = tls::Connection::client(**ctx, co);
  if (!conn) {
    *detail = conn.error().message;
    return -1;
  }
  auto sock = mqtt::test::TcpSocket::connect_loopback(port);
  if (!sock.valid()) {
    *detail = "cannot connect";
    return -1;
  }
  mqtt::ClientOptions mo;
  mo.client_id = "armored-bench-reference";
  mo.max_inflight = window;
  mo.keep_alive_s = 0;
  mqtt::ClientSession s(mo);
  const auto t0 = Steady::now();
  auto mnow = [&] { return std::chrono::duration_cast<mqtt::Time>(Steady::now() - t0); };
  (void)s.connect(mnow());
  const Bytes payload(96, 0x5a);
  bool connected = false;
  std::uint64_t acked = 0;
  Steady::time_point start, end;
  std::vector<std::uint8_t> buf(256 * 1024);
  auto handle = [&](std::vector<tls::Event>& events) -> bool {
    for (auto& e : events) {
      if (auto* ad = std::get_if<tls::ApplicationData>(&e)) {
        for (const auto& ev : s.receive(ad->bytes, mnow())) {
          if (ev.kind == mqtt::ClientEvent::Kind::kConnected) {
            connected = true;
            start = Steady::now();
            end = start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
          } else if (ev.kind == mqtt::ClientEvent::Kind::kPublishAcked) {
            ++acked;
          } else if (ev.kind == mqtt::ClientEvent::Kind::kClosed) {
            *detail = "MQTT session closed";
            return false;
          }
        }
      } else if (auto* f = std::get_if<tls::Failed>(&e)) {
        *detail = f->error.message;
        return false;
      } else if (std::get_if<tls::Closed>(&e)) {
        *detail = "TLS closed";
        return false;
      }
    }
    return true;
  };
  auto events = (*conn)->start(clock.now());
  if (!handle(events)) return -1;
  const auto give_up = Steady::now() + 10s + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t acked_at_end = 0;
  bool measuring_done = false;
  while (Steady::now() < give_up) {
    if (connected && !measuring_done) {
      while (s.publish("armored/bench/ref", payload, mqtt::QoS::kAtLeastOnce, false, mnow())) {
      }
    }
    auto out = s.pending_output();
    if (!out.empty()) {
      if (!(*conn)->write(out)) return -1;
      s.consume_output(out.size());
    }
    if ((*conn)->has_output()) {
      auto bytes = (*conn)->take_output();
      if (!sock.send_all(bytes)) return -1;
    }
    const ssize_t n = ::recv(sock.fd(), buf.data(), buf.size(), 0);
    if (n <= 0) {
      *detail = "broker closed the connection";
      return -1;
    }
    auto ev = (*conn)->feed(ByteSpan(buf.data(), static_cast<std::size_t>(n)), clock.now());
    if (!handle(ev)) return -1;
    if (connected && Steady::now() >= end) {
      acked_at_end = acked;
      measuring_done = true;
      break;
    }
  }
  if (!measuring_done) {
    *detail = "no CONNACK or no time";
    return -1;
  }
  const double secs = std::chrono::duration<double>(Steady::now() - start).count();
  *detail = std::to_string(acked_at_end) + " PUBACKs in " + std::to_string(secs).substr(0, 5) + " s, window " +
            std::to_string(window) + ", TLS 1.3 mutual auth, mosquitto " + "(persistence off)";
  return static_cast<double>(acked_at_end) / secs;
}

}  // namespace armored::bench
