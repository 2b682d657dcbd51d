#pragma once
// The cloud's storage thread. The network thread opens envelopes and hands
// each PUBLISH's rows here; this thread commits everything that has queued
// up in one durable transaction (group commit), then reports back so the
// PUBLISHes can be acknowledged. At-least-once on the wire, exactly-once in
// storage: the store drops duplicates by (device, epoch, seq).
//
// A failed commit (disk full, an I/O error, PostgreSQL gone) is not the end:
// the same jobs are retried with back-off until they commit, nothing is
// reported durable meanwhile (so nothing is acknowledged and no replay state
// moves), the failure is logged once with its cause and the recovery once
// with how long it took. Only a stop during the outage gives the jobs up,
// reported not durable: their senders keep them and send them again.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "cloud/internal/e3_state_file.h"
#include "store/store.h"

namespace armored::cloud {

struct WriteJob {
  std::vector<store::ReadingRow> rows;
  std::vector<store::ReplyRow> replies;  // committed with the rows
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
  std::uint64_t failures = 0;   // failed commit attempts (each retried)
  std::uint64_t outages = 0;    // times storage started failing
  std::uint64_t abandoned = 0;  // jobs given up at a stop during an outage (not acknowledged)
  bool failing = false;         // the last attempt failed; retrying
};

struct WriterRetry {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
};

class StoreWriter {
 public:
  // `persist_state` writes the e3_state of the jobs in a commit durably
  // before that commit; a failure fails the commit.
  using PersistState = std::function<Status(std::span<const E3StateUpdate> updates)>;
  StoreWriter(store::Store& store, std::size_t max_batch_rows, PersistState persist_state = {},
              WriterRetry retry = {});
  ~StoreWriter();  // drains the queue (or, while storage fails, gives it up), then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Called on the storage thread after each successful commit with how
  // long the attempt that succeeded took and the rows it held (metrics:
  // cloud_metrics.h). Set it before the first submit().
  using OnCommit = std::function<void(double seconds, std::span<const store::ReadingRow> rows)>;
  void set_on_commit(OnCommit on_commit) { on_commit_ = std::move(on_commit); }

  void submit(WriteJob job);
  // Blocks until everything submitted so far is committed, or storage is
  // failing (waiting would not help).
  void drain();
  WriterStats stats() const;
  std::size_t queued() const;
  // Nothing queued and no commit running.
  bool idle() const;

 private:
  void run();
  struct Gathered {
    std::vector<store::ReadingRow> rows;
    std::vector<store::ReplyRow> replies;
    std::vector<store::SecurityEvent> events;
    std::vector<E3StateUpdate> state;
  };
  // How far a group got: a retry resumes after the parts already durable.
  struct Progress {
    bool state = false;
    bool rows = false;
    store::BatchResult result;
  };
  // One attempt at committing a group of jobs; the error names what failed.
  Status commit(const Gathered& g, Progress& progress);
  void note_seen(std::span<const store::ReadingRow> rows);
  void touch_seen(bool now);
  static constexpr std::chrono::seconds kTouchInterval{5};

  store::Store& store_;
  std::size_t max_batch_rows_;
  PersistState persist_state_;
  OnCommit on_commit_;
  WriterRetry retry_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<WriteJob> queue_;
  bool busy_ = false;
  bool stop_ = false;
  WriterStats stats_;
  // Storage thread only: devices seen since the last touch_devices().
  std::set<Bytes> seen_;
  std::int64_t seen_at_ms_ = 0;
  std::chrono::steady_clock::time_point touched_at_{};
  std::thread thread_;
};

}  // namespace armored::cloud
