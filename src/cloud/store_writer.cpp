#include "cloud/store_writer.h"

#include "common/log.h"

namespace armored::cloud {

StoreWriter::StoreWriter(store::Store& store, std::size_t max_batch_rows, PersistState persist_state)
    : store_(store), max_batch_rows_(max_batch_rows), persist_state_(std::move(persist_state)) {
  thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StoreWriter::submit(WriteJob job) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void StoreWriter::drain() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return queue_.empty() && !busy_; });
}

WriterStats StoreWriter::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

bool StoreWriter::idle() const {
  std::lock_guard lk(mu_);
  return queue_.empty() && !busy_;
}

std::size_t StoreWriter::queued() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

void StoreWriter::run() {
  std::vector<WriteJob> jobs;
  std::vector<store::ReadingRow> rows;
  std::vector<store::SecurityEvent> events;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      // Take everything queued, up to the row budget (at least one job).
      std::size_t n_rows = 0;
      while (!queue_.empty() && (jobs.empty() || n_rows + queue_.front().rows.size() <= max_batch_rows_)) {
        n_rows += queue_.front().rows.size();
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    rows.clear();
    events.clear();
    std::vector<E3StateUpdate> state;
    for (auto& j : jobs) {
      std::move(j.e3_state.begin(), j.e3_state.end(), std::back_inserter(state));
      std::move(j.rows.begin(), j.rows.end(), std::back_inserter(rows));
      std::move(j.events.begin(), j.events.end(), std::back_inserter(events));
    }
    bool ok = true;
    if (!state.empty() && persist_state_) {
      if (auto st = persist_state_(state); !st) {
        spdlog::error("cannot persist E3 state before commit: {}", st.error().message);
        ok = false;
      }
    }
    store::BatchResult result;
    if (ok && !rows.empty()) {
      auto r = store_.store_batch(rows);
      if (!r) {
        spdlog::error("storage commit failed: {}", r.error().message);
        ok = false;
      } else {
        result = *r;
      }
    }
    if (ok && !events.empty()) {
      if (auto r = store_.record_events(events); !r) {
        spdlog::error("recording security events failed: {}", r.error().message);
        ok = false;
      }
    }
    for (auto& j : jobs) {
      if (j.done) j.done(ok);
    }
    jobs.clear();
    {
      std::lock_guard lk(mu_);
      ++stats_.commits;
      stats_.inserted += result.inserted;
      stats_.duplicates += result.duplicates;
      stats_.events += ok ? events.size() : 0;
      stats_.failures += ok ? 0 : 1;
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

}  // namespace armored::cloud
