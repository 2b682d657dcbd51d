// Durable spool appends per second: one thread (one fdatasync per append),
// many threads (group commit shares syncs), append_batch, and draining with
// peek + ack. Reference, same run, same directory: a raw loop of write() +
// fdatasync() of the same record size, which bounds a sync-per-record design.
//
// Usage: spool_bench [seconds per configuration] (default 3)

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "spool/spool.h"

namespace {
using namespace armored;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kRecord = 120;  // a sealed reading (96 bytes) with batch framing

double raw_sync_loop(const fs::path& dir, double seconds) {
  fs::path p = dir / "raw";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  std::vector<std::uint8_t> rec(kRecord, 0x42);
  auto t0 = Clock::now();
  std::size_t n = 0;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size()) || ::fdatasync(fd) != 0) std::exit(1);
    ++n;
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  fs::remove(p);
  return static_cast<double>(n) / s;
}

struct Figure {
  double per_second;
  double records_per_sync;
};

std::unique_ptr<spool::Spool> fresh(const fs::path& dir) {
  fs::remove_all(dir);
  auto s = spool::Spool::open(dir);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    std::exit(1);
  }
  return std::move(*s);
}

Figure appends(const fs::path& dir, int threads, std::size_t batch, double seconds) {
  auto sp = fresh(dir);
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
  double raw = raw_sync_loop(dir, seconds);
  std::printf("%-40s %10.0f records/s\n", "raw write+fdatasync loop (reference)", raw);
  auto show = [&](const char* what, const Figure& f) {
    std::printf("%-40s %10.0f records/s  %7.1f records/sync  (%.1fx raw)\n", what, f.per_second,
                f.records_per_sync, f.per_second / raw);
    std::fflush(stdout);
  };
  show("append, 1 thread", appends(dir / "s", 1, 1, seconds));
  show("append, 8 threads (group commit)", appends(dir / "s", 8, 1, seconds));
  show("append, 64 threads (group commit)", appends(dir / "s", 64, 1, seconds));
  show("append_batch(100), 1 thread", appends(dir / "s", 1, 100, seconds));
  show("append_batch(1000), 1 thread", appends(dir / "s", 1, 1000, seconds));
  show("append_batch(100), 4 threads", appends(dir / "s", 4, 100, seconds));
  std::printf("%-40s %10.0f records/s\n", "drain: peek(1000) + ack, 200k records", drain(dir / "s", 200000));
  fs::remove_all(dir);
  return 0;
}
