#include "store/stored_index.h"

#include <algorithm>

namespace armored::store {

bool SeqRuns::contains(std::uint64_t seq) const {
  // The first run that ends at or after seq is the only one that can hold it.
  auto it = std::lower_bound(runs_.begin(), runs_.end(), seq,
                             [](const SeqRun& r, std::uint64_t s) { return r.last < s; });
  return it != runs_.end() && it->first <= seq;
}

namespace {
auto first_at_or_after(const std::vector<SeqRun>& runs, std::uint64_t first) {
  return std::lower_bound(runs.begin(), runs.end(), first, [](const SeqRun& r, std::uint64_t f) { return r.first < f; });
}
}  // namespace

const SeqRun* SeqRuns::find_run(std::uint64_t first) const {
  auto it = first_at_or_after(runs_, first);
  return it != runs_.end() && it->first == first ? &*it : nullptr;
}

RunEdit SeqRuns::add(std::uint64_t seq, std::int64_t at_ms) {
  // In-order arrival extends the last run: the common case, decided first.
  if (!runs_.empty() && runs_.back().last + 1 == seq) {
    runs_.back().last = seq;
    runs_.back().last_at_ms = at_ms;
    return {runs_.back().first};
  }
  auto next = std::lower_bound(runs_.begin(), runs_.end(), seq,
                               [](const SeqRun& r, std::uint64_t s) { return r.last < s; });
  const bool joins_prev = next != runs_.begin() && std::prev(next)->last + 1 == seq;
  const bool joins_next = next != runs_.end() && seq + 1 == next->first;
  if (joins_prev && joins_next) {
    auto prev = std::prev(next);
    const RunEdit edit{prev->first, next->first, true};
    prev->last = next->last;
    prev->last_at_ms = next->last_at_ms;
    runs_.erase(next);
    return edit;
  }
  if (joins_prev) {
    auto prev = std::prev(next);
    prev->last = seq;
    prev->last_at_ms = at_ms;
    return {prev->first};
  }
  if (joins_next) {
    const RunEdit edit{seq, next->first, true};
    next->first = seq;
    next->first_at_ms = at_ms;
    return edit;
  }
  runs_.insert(next, SeqRun{seq, seq, at_ms, at_ms});
  return {seq};
}

void StoredIndex::keep_newest(std::string_view device, std::uint32_t epoch, SeqRuns&& runs) {
  auto it = cache_.find(device);
  if (it == cache_.end()) {
    cached_runs_ += runs.runs().size();
    cache_.emplace(std::string(device), Newest{epoch, std::move(runs)});
    return;
  }
  // An older epoch's series is read from the table when needed: keeping it
  // would let the cache grow by a series per rotation.
  if (epoch < it->second.epoch) return;
  cached_runs_ -= it->second.runs.runs().size();
  cached_runs_ += runs.runs().size();
  it->second = Newest{epoch, std::move(runs)};
}

void StoredIndex::put_loaded(SeriesKey key, SeqRuns runs) { keep_newest(key.device, key.epoch, std::move(runs)); }

std::optional<std::uint32_t> StoredIndex::cached_epoch(std::string_view device) const {
  auto it = cache_.find(device);
  if (it == cache_.end()) return std::nullopt;
  return it->second.epoch;
}

StoreResult<StoredIndex::Plan> StoredIndex::plan(std::span<const ReadingRow> rows, const Loader& load) {
  Plan plan;
  plan.fresh.reserve(rows.size());
  SeriesKey probe;
  Series* last = nullptr;  // a batch is mostly runs of one device
  const ReadingRow* last_row = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ReadingRow& r = rows[i];
    if (!last_row || last_row->epoch != r.epoch || last_row->device != r.device) {
      probe.device = r.device;
      probe.epoch = r.epoch;
      auto ch = plan.series.find(probe);
      if (ch == plan.series.end()) {
        Series start;
        auto c = cache_.find(std::string_view(r.device));
        if (c != cache_.end() && c->second.epoch == r.epoch) {
          start.runs = c->second.runs;
        } else if (!complete_ || (c != cache_.end() && r.epoch < c->second.epoch)) {
          // Not known here, or an epoch older than the device's newest: its
          // runs are in the table only.
          auto loaded = load(r.device, r.epoch);
          if (!loaded) return unexpected(loaded.error());
          start.runs = std::move(*loaded);
        }
        // Otherwise complete and newer than anything the device stored: empty.
        ch = plan.series.emplace(probe, std::move(start)).first;
      }
      last = &ch->second;
      last_row = &r;
    }
    if (last->runs.contains(r.seq)) {
      ++plan.duplicates;
      continue;
    }
    const RunEdit edit = last->runs.add(r.seq, r.received_at_ms);
    // In-order readings extend one run: note its key once, not per reading.
    if (last->changed_keys.empty() || last->changed_keys.back() != edit.key) last->changed_keys.push_back(edit.key);
    if (edit.removes) last->removed_keys.push_back(edit.removed_key);
    last->dirty = true;
    plan.fresh.push_back(i);
  }
  for (auto& [key, s] : plan.series) {
    for (auto* keys : {&s.changed_keys, &s.removed_keys}) {
      std::sort(keys->begin(), keys->end());
      keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
    }
  }
  return plan;
}

void StoredIndex::committed(Plan&& plan) {
  for (auto& [key, s] : plan.series) keep_newest(key.device, key.epoch, std::move(s.runs));
  if (max_cached_runs_ != 0 && cached_runs_ > max_cached_runs_) {
    // Bounded memory: start over and read series back as they are touched.
    cache_.clear();
    cached_runs_ = 0;
    complete_ = false;
  }
}

}  // namespace armored::store
