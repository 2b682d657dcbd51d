#include "cloud/internal/store_writer.h"

#include "common/backoff.h"
#include "common/log.h"
#include "common/rng.h"

namespace armored::cloud {

StoreWriter::StoreWriter(store::Store& store, std::size_t max_batch_rows, PersistState persist_state,
                         WriterRetry retry)
    : store_(store), max_batch_rows_(max_batch_rows), persist_state_(std::move(persist_state)), retry_(retry) {
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
  idle_cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || stats_.failing; });
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

Status StoreWriter::commit(const Gathered& g, Progress& progress) {
  const auto& [rows, replies, events, state] = g;
  // Epoch keys first: a reading stored under an epoch the cloud could forget
  // at a crash could not be re-opened, but a persisted epoch without its
  // readings is harmless.
  if (!progress.state && !state.empty() && persist_state_) {
    if (auto st = persist_state_(state); !st) return fail("cannot persist E3 state", st.error());
  }
  progress.state = true;
  if (!progress.rows && (!rows.empty() || !replies.empty())) {
    auto r = store_.store_batch(rows, {}, replies);
    if (!r) return fail("storage commit failed", r.error());
    progress.result = *r;
  }
  progress.rows = true;
  if (!events.empty()) {
    if (auto r = store_.record_events(events); !r) return fail("recording security events failed", r.error());
  }
  return {};
}

// Last seen: the devices of committed rows, written at most every
// kTouchInterval in one transaction (one UPDATE per device, not per
// reading). A failure costs only the dashboard's freshness: logged, retried
// with the next batch.
void StoreWriter::note_seen(std::span<const store::ReadingRow> rows) {
  const Bytes* last = nullptr;
  for (const auto& r : rows) {
    if (last && *last == r.key_id) continue;  // rows come in runs of one device
    last = &r.key_id;
    seen_.insert(r.key_id);
    seen_at_ms_ = std::max(seen_at_ms_, r.received_at_ms);
  }
}

void StoreWriter::touch_seen(bool now) {
  if (seen_.empty()) return;
  const auto t = std::chrono::steady_clock::now();
  if (!now && t - touched_at_ < kTouchInterval) return;
  touched_at_ = t;
  const std::vector<Bytes> keys(seen_.begin(), seen_.end());
  if (auto r = store_.touch_devices(keys, seen_at_ms_); !r) {
    spdlog::debug("cloud: cannot record last-seen times: {}", r.error().message);
    return;
  }
  seen_.clear();
}

void StoreWriter::run() {
  std::vector<WriteJob> jobs;
  SystemRng rng;
  Backoff backoff(retry_.initial, retry_.max, rng);
  // Not a std::optional: GCC 12 at -O3 reports its time_point as maybe
  // uninitialised (a false positive that -Werror turns into an error).
  bool failing = false;
  std::chrono::steady_clock::time_point failing_since{};
  std::uint64_t attempts = 0;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      // Idle for a while: record who was seen, so the dashboard's last-seen
      // times do not wait for the next reading.
      if (!cv_.wait_for(lk, kTouchInterval, [&] { return stop_ || !queue_.empty(); })) {
        lk.unlock();
        touch_seen(true);
        continue;
      }
      if (queue_.empty() && stop_) {
        lk.unlock();
        touch_seen(true);
        return;
      }
      // Take everything queued, up to the row budget (at least one job).
      std::size_t n_rows = 0;
      while (!queue_.empty() && (jobs.empty() || n_rows + queue_.front().rows.size() <= max_batch_rows_)) {
        n_rows += queue_.front().rows.size();
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    // Gathered once: a retry commits exactly the same rows again.
    Gathered g;
    for (auto& j : jobs) {
      std::move(j.e3_state.begin(), j.e3_state.end(), std::back_inserter(g.state));
      std::move(j.rows.begin(), j.rows.end(), std::back_inserter(g.rows));
      std::move(j.replies.begin(), j.replies.end(), std::back_inserter(g.replies));
      std::move(j.events.begin(), j.events.end(), std::back_inserter(g.events));
    }
    const std::size_t held = g.rows.size();
    Progress progress;
    for (;;) {
      ++attempts;
      const auto attempt_start = std::chrono::steady_clock::now();
      Status st = commit(g, progress);
      const store::BatchResult& result = progress.result;
      if (st) {
        if (on_commit_) {
          on_commit_(std::chrono::duration<double>(std::chrono::steady_clock::now() - attempt_start).count(), g.rows);
        }
        note_seen(g.rows);
        touch_seen(false);
        if (failing) {
          const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - failing_since).count();
          spdlog::warn("cloud: storage works again after {:.1f} s and {} attempts; acknowledging resumes", secs, attempts);
          failing = false;
          backoff.reset();
        }
        attempts = 0;
        for (auto& j : jobs) {
          if (j.done) j.done(true);
        }
        std::lock_guard lk(mu_);
        ++stats_.commits;
        stats_.inserted += result.inserted;
        stats_.duplicates += result.duplicates;
        stats_.events += g.events.size();
        stats_.failing = false;
        break;
      }
      if (!failing) {
        failing = true;
        failing_since = std::chrono::steady_clock::now();
        // Once, with the cause: the retries below are silent until it works.
        spdlog::error("cloud: {}; holding {} readings unacknowledged and retrying until storage works again",
                      st.error().message, held);
      } else {
        spdlog::debug("cloud: storage still failing: {}", st.error().message);
      }
      const auto delay = backoff.next();
      if (auto rc = store_.reconnect(); !rc) spdlog::debug("cloud: storage reconnect failed: {}", rc.error().message);
      std::unique_lock lk(mu_);
      ++stats_.failures;
      if (!stats_.failing) ++stats_.outages;
      stats_.failing = true;
      idle_cv_.notify_all();  // drain() does not wait for an outage
      if (cv_.wait_for(lk, delay, [&] { return stop_; })) {
        // Stopping during the outage: give everything up, unacknowledged.
        std::vector<WriteJob> rest(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
        stats_.abandoned += jobs.size() + rest.size();
        lk.unlock();
        spdlog::error("cloud: stopping while storage fails: {} uplink batches were not stored and not acknowledged;"
                      " their senders keep them and send them again",
                      jobs.size() + rest.size());
        for (auto& j : jobs) {
          if (j.done) j.done(false);
        }
        for (auto& j : rest) {
          if (j.done) j.done(false);
        }
        std::lock_guard lk2(mu_);
        busy_ = false;
        idle_cv_.notify_all();
        return;
      }
    }
    jobs.clear();
    {
      std::lock_guard lk(mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

}  // namespace armored::cloud
