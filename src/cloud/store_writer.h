#pragma once
// The cloud's storage thread. The network thread opens envelopes and hands
// each PUBLISH's rows here; this thread commits everything that has queued
// up in one durable transaction (group commit), then reports back so the
// PUBLISHes can be acknowledged. At-least-once on the wire, exactly-once in
// storage: the store drops duplicates by (device, epoch, seq).

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cloud/e3_state_file.h"
#include "store/store.h"

namespace armored::cloud {

struct WriteJob {
  std::vector<store::ReadingRow> rows;
  std::vector<store::SecurityEvent> events;
  // E3 receiver state to persist before the rows are committed (set when
  // this PUBLISH installed new epochs): E3StateFile::capture().
  std::vector<E3StateUpdate> e3_state;
  // Runs on the writer thread after the commit: true if durable. The
  // callback must hand its work back to the network thread itself.
  std::function<void(bool durable)> done;
};

struct WriterStats {
  std::uint64_t commits = 0;
  std::uint64_t inserted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t events = 0;
  std::uint64_t failures = 0;
};

class StoreWriter {
 public:
  // `persist_state` writes the e3_state of the jobs in a commit durably
  // before that commit; a failure fails the commit.
  using PersistState = std::function<Status(std::span<const E3StateUpdate> updates)>;
  StoreWriter(store::Store& store, std::size_t max_batch_rows, PersistState persist_state = {});
  ~StoreWriter();  // drains the queue, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  void submit(WriteJob job);
  // Blocks until everything submitted so far is committed (or failed).
  void drain();
  WriterStats stats() const;
  std::size_t queued() const;
  // Nothing queued and no commit running.
  bool idle() const;

 private:
  void run();

  store::Store& store_;
  std::size_t max_batch_rows_;
  PersistState persist_state_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<WriteJob> queue_;
  bool busy_ = false;
  bool stop_ = false;
  WriterStats stats_;
  std::thread thread_;
};

}  // namespace armored::cloud
