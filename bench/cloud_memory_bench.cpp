// cloud_memory_bench: what the cloud holds per enrolled device, and how long
// it takes to start, at fleet sizes the pipeline bench cannot reach.
//
// For each fleet size N it builds, in a child process, the files a cloud
// starts from: registry.json (ids patient-NNNNNNN, random 3-byte kids as
// `armored enroll` gives), the cloud's E3 key, and an E3 state snapshot in
// which every device has announced one epoch (or two, --epochs 2: the hour
// of grace after a rotation). Then, in a fresh child process, it starts the
// way CloudServer::Impl::load() does and reports
//   start-up: registry parse, identity keys parsed and added to the
//             opener, state restore (E3StateFile::load), each timed;
//   resident: RSS and malloc'd bytes per device after start-up (the
//             registry freed, as load() frees it), and again after every
//             device has sent one reading (opened and marked received);
//   storage:  what the store's index of stored sequence numbers
//             (store/stored_index.h) adds per device once every device has
//             stored readings of one run in each of its epochs.
//
// Shortcuts, so that 1,000,000 devices take minutes and not hours:
//   - identity keys: --keys distinct P-256 keys (default 64) shared
//     round-robin by the devices. The cloud reads <pki>/device/<id>.crt per
//     device: with --pki DIR (an `armored pki fleet` directory) the keys are
//     those of DIR's first --keys devices and every device's certificate is
//     read from its file and handled as the cloud does (the files warm in
//     the page cache, so disk reads are not counted); without it the keys
//     are fresh and parsed per device from PEM public keys held in memory.
//   - epochs: --templates devices (default 2,000) announce for real (signed,
//     verified, ECDH) in the setup process; every other device's state entry
//     is a copy of a template's with its kid written in. Restoring derives
//     each device's keys from its kid as for a real one.
//
//   build/release/bench/cloud_memory_bench [--devices 100000,1000000] [--epochs 1]
//                                          [--keys 64] [--templates 2000] [--dir /tmp/...]
//                                          [--pki DIR] [--only measure]

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cbor/writer.h"
#include "cloud/internal/e3_state_file.h"
#include "cloud/internal/peer_policy.h"
#include "common/clock.h"
#include "common/file_io.h"
#include "common/rng.h"
#include "crypto/ec.h"
#include "e3/announcement.h"
#include "e3/e3.h"
#include "pki/pki.h"
#include "provision/registry.h"
#include "store/stored_index.h"

namespace {

using namespace armored;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

const Bytes kCloudKeyId = {0xc1, 0x0d};
constexpr std::size_t kKidSize = 3;

struct Args {
  std::vector<std::size_t> devices{100000, 1000000};
  std::size_t keys = 64;
  std::size_t templates = 2000;
  int epochs = 1;
  fs::path dir;
  fs::path pki;  // optional: certificates and keys of an `armored pki fleet`
  // "measure": only the measuring step, in this process, on the files a
  // previous run left in --dir (for heaptrack or valgrind --tool=massif).
  std::string only;
};

// The first `keys` device ids of an `armored pki fleet` directory.
std::vector<std::string> pki_devices(const fs::path& pki, std::size_t keys) {
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(pki / "device")) {
    if (e.path().extension() == ".key") ids.push_back(e.path().stem().string());
  }
  std::sort(ids.begin(), ids.end());
  if (ids.size() > keys) ids.resize(keys);
  return ids;
}

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

// VmRSS / VmHWM of this process, in bytes.
std::size_t status_bytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::stoull(line.substr(n + 1)) * 1024;
    }
  }
  return 0;
}
std::size_t heap_bytes() { return mallinfo2().uordblks; }

std::string device_id(std::size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "patient-%07zu", i);
  return b;
}

// Distinct, scattered 3-byte kids: i times an odd constant modulo 2^24 is a
// bijection, so no two devices share one.
Bytes kid_of(std::size_t i) {
  const std::uint32_t v = static_cast<std::uint32_t>((i * 0x9E3779u + 0x5A5A5Au) & 0xFFFFFFu);
  return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

e3::OpenerConfig opener_config() {
  e3::OpenerConfig oc;
  oc.cloud_key_id = kCloudKeyId;
  oc.epoch_lifetime = std::chrono::hours(24 * 365);
  return oc;
}

template <typename F>
int in_child(F&& f) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int rc = f();
    std::fflush(stdout);
    ::_exit(rc);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void write_bytes(const fs::path& p, ByteSpan b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// ---- setup: the files a cloud with N enrolled devices starts from ----

int setup(const fs::path& dir, std::size_t n, const Args& a) {
  fs::create_directories(dir);
  const auto t0 = Steady::now();
  auto cloud = crypto::EcPrivateKey::generate().value();
  (void)write_file_atomic(provision::cloud_key_path(dir), as_bytes(cloud.to_pem()), 0600);
  std::vector<crypto::EcPrivateKey> identities;
  std::string pems;
  if (!a.pki.empty()) {
    for (const auto& id : pki_devices(a.pki, a.keys)) {
      auto pem = read_text_file(a.pki / "device" / (id + ".key"), 64 * 1024);
      if (!pem) return 1;
      identities.push_back(crypto::EcPrivateKey::from_pem(*pem).value());
    }
    if (identities.empty()) return 1;
  } else {
    for (std::size_t k = 0; k < a.keys; ++k) {
      identities.push_back(crypto::EcPrivateKey::generate().value());
      pems += identities.back().public_key().value().to_pem();
    }
    (void)write_file_atomic(dir / "identities.pem", as_bytes(pems), 0644);
  }
  const std::size_t keys = identities.size();

  provision::Registry reg;
  reg.cloud_key_id = kCloudKeyId;
  reg.devices.reserve(n);
  for (std::size_t i = 0; i < n; ++i) reg.devices.push_back({device_id(i), kid_of(i)});
  (void)write_file_atomic(provision::registry_path(dir), as_bytes(provision::serialize_registry(reg)), 0644);

  // Templates: real devices announcing real epochs to a real opener.
  const std::size_t t = std::min(n, a.templates);
  ManualClock clock;
  SystemRng rng;
  auto opener = e3::Opener::create(opener_config(), cloud, clock, nullptr).value();
  std::vector<Bytes> announcements;
  double accept_s = 0;
  for (std::size_t i = 0; i < t; ++i) {
    const auto& id = identities[i % keys];
    (void)opener.add_device({kid_of(i), device_id(i), id.public_key().value()});
    e3::SealerConfig sc;
    sc.kid = kid_of(i);
    sc.cloud_key_id = kCloudKeyId;
    sc.alg = crypto::AeadAlg::kAes128Gcm;
    e3::MemoryStateStore store;
    auto sealer = e3::Sealer::create(sc, id, cloud.public_key().value(), clock, rng, store).value();
    for (int e = 0; e < a.epochs; ++e) {
      Bytes ann = sealer.start_epoch().value();
      const auto ta = Steady::now();
      if (!opener.accept_announcement(ann)) return 1;
      accept_s += seconds_since(ta);
      announcements.push_back(ann);
    }
  }
  // The newest announcement per template, for the measuring process to
  // derive the same epoch keys and seal one reading per device.
  Bytes ann_file;
  for (std::size_t i = 0; i < t; ++i) {
    const Bytes& ann = announcements[i * a.epochs + a.epochs - 1];
    ann_file.push_back(static_cast<std::uint8_t>(ann.size() >> 8));
    ann_file.push_back(static_cast<std::uint8_t>(ann.size()));
    ann_file.insert(ann_file.end(), ann.begin(), ann.end());
  }
  write_bytes(dir / "announcements.bin", ann_file);

  // The snapshot: [version 1, [entry...]]; entry = [kid, ...] with the kid
  // (a 3-byte bstr: 0x43 and the bytes) right after the array head.
  std::vector<Bytes> entries;
  for (std::size_t i = 0; i < t; ++i) entries.push_back(opener.serialize_device(kid_of(i)));
  Bytes state;
  cbor::Writer w(state);
  w.array(2).uint(1).array(n);
  for (std::size_t i = 0; i < n; ++i) {
    Bytes e = entries[i % t];
    if (e.size() < 2 + kKidSize || e[1] != 0x40 + kKidSize) return 1;
    const Bytes kid = kid_of(i);
    std::copy(kid.begin(), kid.end(), e.begin() + 2);
    state.insert(state.end(), e.begin(), e.end());
  }
  fs::remove(dir / "e3-state");
  fs::remove(dir / "e3-state.journal");
  cloud::E3StateFile sf(dir / "e3-state");
  if (!sf.write(1, state)) return 1;
  std::printf("  setup: %zu devices, %zu identity keys%s, %zu templates x %d epoch(s) (%.0f us per accepted"
              " announcement), state %.1f MiB, registry %.1f MiB, %.1f s\n",
              n, keys, a.pki.empty() ? "" : " (certificate files)", t, a.epochs, accept_s * 1e6 / static_cast<double>(t * a.epochs),
              static_cast<double>(state.size()) / (1 << 20),
              static_cast<double>(fs::file_size(provision::registry_path(dir))) / (1 << 20), seconds_since(t0));
  return 0;
}

// ---- measure: start the way the cloud does, then one reading per device ----

int measure(const fs::path& dir, std::size_t n, const Args& a) {
  // The inputs that are not the cloud's own state: read before the baseline.
  auto cloud_pem = read_text_file(provision::cloud_key_path(dir), 64 * 1024);
  if (!cloud_pem) return 1;
  std::vector<std::string> pems;
  std::vector<fs::path> certs;
  if (!a.pki.empty()) {
    for (const auto& id : pki_devices(a.pki, a.keys)) certs.push_back(a.pki / "device" / (id + ".crt"));
  } else {
    auto pem_text = read_text_file(dir / "identities.pem", 1 << 20);
    if (!pem_text) return 1;
    for (std::size_t at = 0;;) {
      const auto end = pem_text->find("-----END PUBLIC KEY-----", at);
      if (end == std::string::npos) break;
      const std::size_t stop = end + std::strlen("-----END PUBLIC KEY-----\n");
      pems.push_back(pem_text->substr(at, stop - at));
      at = stop;
    }
  }
  const Bytes ann_file = read_bytes(dir / "announcements.bin");
  ManualClock clock;
  ::malloc_trim(0);
  const std::size_t rss0 = status_bytes("VmRSS"), heap0 = heap_bytes();

  const auto t0 = Steady::now();
  auto registry = provision::load_registry(dir);
  if (!registry) return 1;
  const double t_registry = seconds_since(t0);
  auto t = Steady::now();
  auto cloud = crypto::EcPrivateKey::from_pem(*cloud_pem).value();
  auto opener = e3::Opener::create(opener_config(), cloud, clock, nullptr).value();
  std::size_t i = 0;
  for (const auto& d : registry->devices) {
    if (certs.empty()) {
      auto pub = crypto::EcPublicKey::from_pem(pems[i++ % pems.size()]);
      if (!pub || !opener.add_device({d.kid, d.device_id, *pub})) return 1;
      continue;
    }
    // As CloudServer::Impl::load(): each device's certificate file read, its key's point taken.
    auto point = pki::certificate_p256_point(read_text_file(certs[i++ % certs.size()], 64 * 1024).value());
    if (!point || !opener.add_device(d.kid, d.device_id, *point)) return 1;
  }
  const double t_keys = seconds_since(t);
  t = Steady::now();
  cloud::E3StateFile sf(dir / "e3-state");
  if (auto r = sf.load(opener); !r) {
    std::printf("  state load failed: %s\n", r.error().message.c_str());
    return 1;
  }
  const double t_restore = seconds_since(t);
  // The two device id -> kid maps the cloud keeps (peer policy, commands).
  std::map<std::string, Bytes, std::less<>> kids;
  for (const auto& d : registry->devices) kids.emplace(d.device_id, d.kid);
  cloud::PeerPolicy policy(kids);
  const double t_total = seconds_since(t0);
  registry = provision::Registry{};  // load() drops it when it returns
  const std::size_t rss1 = status_bytes("VmRSS"), heap1 = heap_bytes(), hwm1 = status_bytes("VmHWM");

  // One reading per device, sealed here with the keys the device would hold.
  std::vector<e3::EpochSecrets> secrets;
  for (std::size_t off = 0; off + 2 <= ann_file.size();) {
    const std::size_t len = (std::size_t{ann_file[off]} << 8) | ann_file[off + 1];
    ByteSpan ann(ann_file.data() + off + 2, len);
    off += 2 + len;
    auto p = e3::parse_announcement(ann).value();
    const auto& f = p.fields;
    auto eph = crypto::EcPublicKey::from_point(f.ephemeral_public).value();
    auto shared = cloud.ecdh(eph).value();
    secrets.push_back(e3::derive_epoch_secrets(shared, {f.kid, f.epoch, f.alg, f.cloud_key_id, f.ephemeral_public})
                          .value());
  }
  const Bytes reading(52, 0x42);
  std::array<std::uint8_t, 256> env{}, plain{};
  double open_s = 0;
  std::size_t opened = 0;
  for (std::size_t d = 0; d < n; ++d) {
    const Bytes kid = kid_of(d);
    auto keys = e3::EpochKeys::derive(kid, secrets[d % secrets.size()]).value();
    const std::uint64_t seq = 0;
    const auto& framing = keys.framing(e3::MessageType::kUplink);
    const std::size_t hdr = framing.write_header(seq, env.data());
    std::array<std::uint8_t, e3::kMaxAadSize> aad;
    const std::size_t aad_len = framing.write_aad(seq, aad.data());
    std::array<std::uint8_t, e3::oscore::kMaxNonce> nonce;
    keys.nonce(e3::MessageType::kUplink, seq, nonce);
    auto sealed = keys.aead(e3::MessageType::kUplink)
                      .seal({nonce.data(), keys.nonce_size()}, {aad.data(), aad_len}, reading,
                            MutableByteSpan(env).subspan(hdr));
    if (!sealed) return 1;
    const auto to = Steady::now();
    auto r = opener.open(ByteSpan(env.data(), hdr + *sealed), plain);
    if (r) opener.mark_received(kid, r->epoch, r->sequence);
    open_s += seconds_since(to);
    if (r) ++opened;
  }
  const std::size_t rss2 = status_bytes("VmRSS"), heap2 = heap_bytes();
  const double dn = static_cast<double>(n);
  double index_bytes = 0;
  std::size_t index_series = 0;
  {
    // Every device stored readings in each of its epochs, oldest first.
    const std::size_t before = heap_bytes();
    store::StoredIndex index;
    for (int e = 1; e <= a.epochs; ++e) {
      for (std::size_t d = 0; d < n; ++d) {
        store::SeqRuns runs;
        runs.append_loaded({0, 99, 1, 2});
        index.put_loaded({device_id(d), static_cast<std::uint32_t>(e)}, std::move(runs));
      }
    }
    index_bytes = static_cast<double>(heap_bytes() - before) / dn;
    index_series = index.cached_series();
  }
  std::printf("  start-up: %.2f s (registry %.2f s, identity keys %.2f s, E3 state %.2f s, id maps %.2f s)\n", t_total,
              t_registry, t_keys, t_restore, t_total - t_registry - t_keys - t_restore);
  std::printf("  after start-up:          RSS %7.1f MiB = %6.0f B/device; malloc'd %6.0f B/device; peak RSS %.1f MiB\n",
              static_cast<double>(rss1 - rss0) / (1 << 20), static_cast<double>(rss1 - rss0) / dn,
              static_cast<double>(heap1 - heap0) / dn, static_cast<double>(hwm1) / (1 << 20));
  std::printf("  after 1 reading/device:  RSS %7.1f MiB = %6.0f B/device; malloc'd %6.0f B/device;"
              " %zu of %zu opened, %.2f us per open\n",
              static_cast<double>(rss2 - rss0) / (1 << 20), static_cast<double>(rss2 - rss0) / dn,
              static_cast<double>(heap2 - heap0) / dn, opened, n, open_s * 1e6 / dn);
  std::printf("  storage index, every device having stored in %d epoch(s): %.0f B malloc'd per device, %zu series cached\n",
              a.epochs, index_bytes, index_series);
  return opened == n ? 0 : 1;
}

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoull(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--devices") a.devices = parse_list(v);
    else if (k == "--keys") a.keys = std::stoull(v);
    else if (k == "--templates") a.templates = std::stoull(v);
    else if (k == "--epochs") a.epochs = std::stoi(v);
    else if (k == "--dir") a.dir = v;
    else if (k == "--pki") a.pki = v;
    else if (k == "--only") a.only = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.keys == 0 || a.templates == 0 || a.epochs < 1 || a.epochs > 2) {
    std::fprintf(stderr, "--keys and --templates must be positive, --epochs 1 or 2\n");
    return 2;
  }
  if (a.only == "measure") {
    if (a.dir.empty() || a.devices.size() != 1) {
      std::fprintf(stderr, "--only measure needs --dir of an earlier run and one --devices\n");
      return 2;
    }
    return measure(a.dir / std::to_string(a.devices[0]), a.devices[0], a);
  }
  const bool own_dir = a.dir.empty();
  if (own_dir) a.dir = fs::temp_directory_path() / ("cloud-memory-bench-" + std::to_string(::getpid()));
  int rc = 0;
  for (std::size_t n : a.devices) {
    std::printf("== %zu enrolled devices, %d epoch(s) each ==\n", n, a.epochs);
    const fs::path dir = a.dir / std::to_string(n);
    if (in_child([&] { return setup(dir, n, a); }) != 0 || in_child([&] { return measure(dir, n, a); }) != 0) {
      std::printf("  failed\n");
      rc = 1;
    }
    if (own_dir) fs::remove_all(dir);
  }
  if (own_dir) fs::remove_all(a.dir);
  return rc;
}
