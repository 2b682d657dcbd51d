// Test program for the crash test: appends forever from several threads and
// reports each append only after it returned ("<id> <thread> <n>"), and each
// ack after it returned ("A <id>"). The parent kills it with SIGKILL.
// Usage: spool_crash_child DIR REPORT_FILE ROUND THREADS

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "spool/spool.h"

namespace {

void report(int fd, const std::string& line) {
  // One write() per line: O_APPEND keeps lines whole across threads.
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  armored::spool::SpoolOptions o;
  o.max_segment_bytes = 64 * 1024;  // many segment rolls during the run
  o.max_record_bytes = 4096;
  o.max_total_bytes = 512u << 20;
  auto spool = armored::spool::Spool::open(argv[1], o);
  if (!spool) {
    std::fprintf(stderr, "open: %s\n", spool.error().message.c_str());
    return 1;
  }
  int out = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) return 1;
  const std::string round = argv[3];
  const int threads = std::atoi(argv[4]);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t n = 0;; ++n) {
        std::string payload = "r" + round + " t" + std::to_string(t) + " n" + std::to_string(n) + " " +
                              std::string(n % 200, 'x');
        auto id = (*spool)->append(armored::as_bytes(payload));
        if (!id) {
          std::fprintf(stderr, "append: %s\n", id.error().message.c_str());
          std::_Exit(1);
        }
        report(out, std::to_string(*id) + " " + std::to_string(t) + " " + std::to_string(n) + "\n");
        // Thread 0 acknowledges now and then, trailing well behind.
        if (t == 0 && n % 64 == 63 && *id > 500) {
          if (!(*spool)->ack(*id - 500)) std::_Exit(4);
          report(out, "A " + std::to_string(*id - 500) + "\n");
        }
      }
    });
  }
  for (auto& th : pool) th.join();
}
