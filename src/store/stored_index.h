#pragma once
// What the store holds, by reading identity (internal). For every (device,
// epoch) the sequence numbers stored so far, as runs of consecutive numbers:
// the table stored_ranges, and this cache of it in the writing connection.
//
// It is how storage keeps (device, epoch, seq) unique whatever the table's
// key order (SQLite's readings are ordered by time, so their primary key
// cannot say it), and it is the account of every reading: a hole between
// two runs is a reading the cloud never received (Store::sequence_gaps).
// A reading is checked against the runs, inserted only if new, and the
// runs it changed are rewritten in the same transaction; the cache takes
// the new runs only once that transaction has committed, so a failed commit
// leaves it exactly as the database is.
//
// One writer per database: the cache is that writer's (docs/storage.md).
//
// The cache holds one series per device: the newest epoch it has stored.
// Readings of older epochs are the rare late ones of the hour of grace
// after a rotation; they read their series from the table. So the cache
// grows with the fleet, not with time (a device rotating daily would
// otherwise add a series a day), at about 150 B per device that stored.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/types.h"

namespace armored::store {

// What one SeqRuns::add did to the runs, by their first numbers (the
// stored_ranges key): the run now starting at `key` changed or is new, and,
// when `removes`, the run that started at `removed_key` is gone (merged
// into a neighbour, or now starting one lower).
struct RunEdit {
  std::uint64_t key = 0;
  std::uint64_t removed_key = 0;
  bool removes = false;
};

// Sorted, disjoint and non-adjacent runs of stored sequence numbers.
class SeqRuns {
 public:
  bool contains(std::uint64_t seq) const;
  // The run starting at `first`, or null if no run starts there.
  const SeqRun* find_run(std::uint64_t first) const;
  // Adds a number not contained yet, merging with its neighbours.
  RunEdit add(std::uint64_t seq, std::int64_t at_ms);
  const std::vector<SeqRun>& runs() const { return runs_; }
  // For loading: runs must come sorted by first and not overlap.
  void append_loaded(const SeqRun& r) { runs_.push_back(r); }

 private:
  std::vector<SeqRun> runs_;
};

struct SeriesKey {
  std::string device;
  std::uint32_t epoch = 0;
  bool operator==(const SeriesKey&) const = default;
};

struct SeriesKeyHash {
  std::size_t operator()(const SeriesKey& k) const {
    return std::hash<std::string_view>{}(k.device) ^ (std::size_t{k.epoch} * 0x9E3779B97F4A7C15ull);
  }
};

class StoredIndex {
 public:
  // Reads one series' runs from the database (inside the writer's transaction).
  using Loader = std::function<StoreResult<SeqRuns>(std::string_view device, std::uint32_t epoch)>;

  // The cache is emptied (and reloaded per series on demand) once it holds
  // more runs than this, which only series broken by many gaps reach: one
  // series per device is one run each. 0 means no bound.
  explicit StoredIndex(std::size_t max_cached_runs = 4'000'000) : max_cached_runs_(max_cached_runs) {}

  struct Series {
    SeqRuns runs;
    bool dirty = false;  // gained a number: its runs must be written
    // The keys of the runs the batch changed or created, and of those it
    // removed, so a writer rewrites only those rows (usually one UPDATE of
    // the last run) instead of the whole series. Sorted and unique after plan().
    std::vector<std::uint64_t> changed_keys, removed_keys;
  };
  struct Plan {
    std::vector<std::size_t> fresh;  // indexes of the rows to insert, in batch order
    std::size_t duplicates = 0;      // stored already, or earlier in the batch
    std::unordered_map<SeriesKey, Series, SeriesKeyHash> series;  // every series the batch touched
  };

  // Decides which rows are new. A series the cache lacks is read with `load`,
  // unless the cache is complete and the series is newer than the device's
  // cached one (then it has nothing stored yet).
  StoreResult<Plan> plan(std::span<const ReadingRow> rows, const Loader& load);
  // After the transaction that wrote `plan` committed.
  void committed(Plan&& plan);
  // Everything stored is in the cache, in the sense above: every device's
  // newest series (e.g. loaded whole at open, through put_loaded).
  void set_complete(bool complete) { complete_ = complete; }
  // Keeps the series if it is the newest of its device seen so far.
  void put_loaded(SeriesKey key, SeqRuns runs);

  std::size_t cached_series() const { return cache_.size(); }
  std::size_t cached_runs() const { return cached_runs_; }
  // The epoch of the device's cached series, if it has one.
  std::optional<std::uint32_t> cached_epoch(std::string_view device) const;

 private:
  struct Newest {
    std::uint32_t epoch = 0;
    SeqRuns runs;
  };
  struct DeviceHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view d) const { return std::hash<std::string_view>{}(d); }
  };
  // Replaces the device's series if `epoch` is not older than it.
  void keep_newest(std::string_view device, std::uint32_t epoch, SeqRuns&& runs);

  std::unordered_map<std::string, Newest, DeviceHash, std::equal_to<>> cache_;
  std::size_t cached_runs_ = 0;
  std::size_t max_cached_runs_;
  bool complete_ = false;
};

}  // namespace armored::store
