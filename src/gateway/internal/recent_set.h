#pragma once
// The gateway's memory of recently spooled datagrams (by a hash of their
// full bytes), so a device that re-sends because our answer was late gets
// the answer again instead of a second copy in the spool. Whole-message
// hashes, not headers, so a forged datagram can never shadow a genuine one.
//
// A fixed-capacity FIFO set: an open-addressing table (linear probing,
// backward-shift deletion) plus a ring of insertion order. No allocation
// after construction, one probe sequence per lookup, where the node-based
// unordered_set and deque it replaces allocated for every datagram.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"

namespace armored::gateway {

class RecentSet {
 public:
  // Remembers at most `capacity` hashes (rounded up to a power of two).
  explicit RecentSet(std::size_t capacity);
  bool contains(std::uint64_t hash) const;
  // Adds `hash`, forgetting the oldest one when full; false if already present.
  bool insert(std::uint64_t hash);
  // Inserts every hash in order (as insert() one by one), prefetching the
  // table slots a few entries ahead: the table outgrows the CPU caches, so
  // a burst would otherwise wait on a cache miss per probe.
  void insert_all(std::span<const std::uint64_t> hashes);
  // Starts loading the slot `hash` probes first; a later contains() is faster.
  void prefetch(std::uint64_t hash) const { __builtin_prefetch(&table_[key_of(hash) & mask_]); }
  std::size_t size() const { return count_; }
  std::size_t capacity() const { return ring_.size(); }

 private:
  std::size_t find_slot(std::uint64_t key) const;  // slot of key, or of the empty slot ending its probe
  void erase(std::uint64_t key);
  // 0 marks an empty slot, so hashes 0 and 1 share an entry: one more
  // 64-bit collision, as unlikely as any other.
  static std::uint64_t key_of(std::uint64_t hash) { return hash == 0 ? 1 : hash; }

  std::vector<std::uint64_t> table_;  // twice the capacity: load factor at most 1/2
  std::size_t mask_;
  std::vector<std::uint64_t> ring_;   // insertion order
  std::size_t head_ = 0;              // oldest entry once the ring is full
  std::size_t count_ = 0;
};

// The hash RecentSet is keyed by: 64 bits over every byte of the datagram.
std::uint64_t datagram_hash(ByteSpan datagram);

}  // namespace armored::gateway
