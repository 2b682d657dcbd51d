// Test program for the store crash test: stores batches of readings into an
// SQLite file and reports each batch only after store_batch returned
// ("<batch> <rows>"). The parent kills it with SIGKILL mid-stream.
// Usage: store_crash_child DB_FILE REPORT_FILE FIRST_BATCH

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "store/store.h"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  auto store = armored::store::open_sqlite(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  int out = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out < 0) return 1;
  constexpr int kDevices = 200, kBatch = 500;
  std::vector<armored::store::ReadingRow> rows(kBatch);
  for (std::uint64_t batch = std::stoull(argv[3]);; ++batch) {
    for (int i = 0; i < kBatch; ++i) {
      std::uint64_t n = batch * kBatch + static_cast<std::uint64_t>(i);
      auto& r = rows[static_cast<std::size_t>(i)];
      r.device = "dev-" + std::to_string(n % kDevices);
      r.key_id = {0x01};
      r.epoch = 1;
      r.seq = n / kDevices;
      r.timestamp = 1'700'000'000 + static_cast<std::int64_t>(r.seq) * 30;
      r.payload.fill(static_cast<std::uint8_t>(n));
      r.received_at_ms = r.timestamp * 1000;
    }
    auto res = (*store)->store_batch(rows);
    if (!res || res->inserted != kBatch) {
      std::fprintf(stderr, "store_batch failed\n");
      return 1;
    }
    std::string line = std::to_string(batch) + " " + std::to_string(kBatch) + "\n";
    if (::write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 3;
  }
}
