// Durable spool appends per second: one thread (one fdatasync per append),
// many threads (group commit shares syncs), append_batch, and draining with
// peek + ack. Reference, same run, same directory: raw loops of write() +
// fdatasync() of the same record size from 1, 8 and 64 threads (what the
// file system gives without the spool).
//
// Mirrored (docs/spool.md, "Mirror"): the same appends with a mirror
// directory, its two copies synced concurrently and one after the other,
// each with its ratio to the unmirrored figure of this run.
//
// Usage: spool_bench [seconds per configuration] [mirror parent directory]
// (default 3 s; the mirror goes next to the spool, i.e. on the same device,
// unless a directory on another device is given)

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "spool/spool.h"

namespace {
using namespace armored;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kRecord = 120;  // a sealed reading (96 bytes) with batch framing

// `threads` threads each doing write() + fdatasync() on one O_APPEND file.
// The file system itself lets concurrent syncs share a journal commit.
double raw_sync_loop(const fs::path& dir, int threads, double seconds) {
  fs::path p = dir / "raw";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  std::vector<std::uint8_t> rec(kRecord, 0x42);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> n{0};
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size()) || ::fdatasync(fd) != 0) std::exit(1);
        ++n;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  fs::remove(p);
  return static_cast<double>(n) / s;
}

struct Figure {
  double per_second;
  double records_per_sync;
};

// How a run mirrors: not at all, or into `dir` with concurrent or sequential syncs.
struct Mirror {
  std::optional<fs::path> dir;
  bool concurrent = true;
};

std::unique_ptr<spool::Spool> fresh(const fs::path& dir, int concurrent_syncs = 4, const Mirror& mirror = {}) {
  fs::remove_all(dir);
  spool::SpoolOptions o;
  o.max_concurrent_syncs = concurrent_syncs;
  if (mirror.dir) fs::remove_all(*mirror.dir);
  o.mirror_dir = mirror.dir;
  o.mirror_concurrent_sync = mirror.concurrent;
  auto s = spool::Spool::open(dir, o);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    std::exit(1);
  }
  return std::move(*s);
}

Figure appends(const fs::path& dir, int threads, std::size_t batch, double seconds, int concurrent_syncs,
               const Mirror& mirror = {}) {
  auto sp = fresh(dir, concurrent_syncs, mirror);
  std::vector<std::uint8_t> rec(kRecord, 0x5A);
  std::vector<ByteSpan> spans(batch, ByteSpan(rec));
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> total{0};
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = batch == 1 ? sp->append(rec) : sp->append_batch(spans);
        if (!r) {
          std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
          std::exit(1);
        }
        total += batch;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto st = sp->stats();
  sp.reset();
  if (mirror.dir) fs::remove_all(*mirror.dir);
  return {static_cast<double>(total) / s, static_cast<double>(st.appended_records) / static_cast<double>(st.syncs)};
}

// Appends `n` records in batches of 1000, then drains them with peek(1000) + ack.
double drain(const fs::path& dir, std::size_t n) {
  auto sp = fresh(dir);
  std::vector<std::uint8_t> rec(kRecord, 0x33);
  std::vector<ByteSpan> spans(1000, ByteSpan(rec));
  for (std::size_t i = 0; i < n; i += 1000) (void)sp->append_batch(spans);
  auto t0 = Clock::now();
  std::size_t got = 0;
  for (;;) {
    auto r = sp->peek(1000);
    if (!r || r->empty()) break;
    got += r->size();
    if (!sp->ack(r->back().id)) std::exit(1);
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(got) / s;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  fs::path dir = fs::temp_directory_path() / ("armored-spool-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::printf("spool_bench: %zu-byte records, %.0f s per configuration, durable on return\n", kRecord, seconds);
  double raw = raw_sync_loop(dir, 1, seconds);
  std::printf("%-40s %10.0f records/s\n", "raw write+fdatasync, 1 thread (ref)", raw);
  double raw8 = raw_sync_loop(dir, 8, seconds);
  std::printf("%-40s %10.0f records/s\n", "raw write+fdatasync, 8 threads (ref)", raw8);
  double raw64 = raw_sync_loop(dir, 64, seconds);
  std::printf("%-40s %10.0f records/s\n", "raw write+fdatasync, 64 threads (ref)", raw64);
  auto show = [&](const char* what, const Figure& f, double ref) {
    std::printf("%-40s %10.0f records/s  %7.1f records/sync  (%.2fx its raw loop)\n", what, f.per_second,
                f.records_per_sync, f.per_second / ref);
    std::fflush(stdout);
  };
  struct Config {
    const char* what;
    int threads;
    std::size_t batch;
    double ref;
  };
  const std::vector<Config> configs = {
      {"append, 1 thread", 1, 1, raw},
      {"append, 8 threads", 8, 1, raw8},
      {"append, 64 threads", 64, 1, raw64},
      {"append_batch(100), 1 thread", 1, 100, raw},
      {"append_batch(1000), 1 thread", 1, 1000, raw},
      {"append_batch(100), 4 threads", 4, 100, raw},
  };
  for (int syncs : {1, 4}) {
    std::printf("-- max_concurrent_syncs = %d%s\n", syncs, syncs == 4 ? " (default)" : "");
    for (const auto& c : configs) show(c.what, appends(dir / "s", c.threads, c.batch, seconds, syncs), c.ref);
  }
  // Sync latency on a shared machine drifts over a run, so each mirrored
  // figure is compared with an unmirrored run made just before it.
  const fs::path mirror_parent = argc > 2 ? fs::path(argv[2]) : dir;
  std::printf("-- mirrored in %s, max_concurrent_syncs = 4: unmirrored, then copies synced concurrently\n"
              "   (default), then one after the other; records/s and the ratio to the unmirrored run\n",
              mirror_parent.c_str());
  for (const auto& c : configs) {
    const double plain = appends(dir / "s", c.threads, c.batch, seconds, 4).per_second;
    const double both = appends(dir / "s", c.threads, c.batch, seconds, 4, Mirror{mirror_parent / "mirror", true}).per_second;
    const double serial = appends(dir / "s", c.threads, c.batch, seconds, 4, Mirror{mirror_parent / "mirror", false}).per_second;
    std::printf("%-32s %9.0f | %9.0f %5.2fx | %9.0f %5.2fx\n", c.what, plain, both, both / plain, serial, serial / plain);
    std::fflush(stdout);
  }
  std::printf("%-40s %10.0f records/s\n", "drain: peek(1000) + ack, 200k records", drain(dir / "s", 200000));
  fs::remove_all(dir);
  return 0;
}
