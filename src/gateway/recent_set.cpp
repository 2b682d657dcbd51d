#include "gateway/internal/recent_set.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <string_view>

namespace armored::gateway {

RecentSet::RecentSet(std::size_t capacity)
    : table_(2 * std::bit_ceil(std::max<std::size_t>(capacity, 1))),
      mask_(table_.size() - 1),
      ring_(std::bit_ceil(std::max<std::size_t>(capacity, 1))) {}

std::size_t RecentSet::find_slot(std::uint64_t key) const {
  std::size_t i = key & mask_;
  while (table_[i] != 0 && table_[i] != key) i = (i + 1) & mask_;
  return i;
}

bool RecentSet::contains(std::uint64_t hash) const {
  const std::uint64_t key = key_of(hash);
  return table_[find_slot(key)] == key;
}

bool RecentSet::insert(std::uint64_t hash) {
  const std::uint64_t key = key_of(hash);
  if (table_[find_slot(key)] == key) return false;
  const std::size_t ring_mask = ring_.size() - 1;
  if (count_ == ring_.size()) {  // forget the oldest
    erase(ring_[head_]);
    head_ = (head_ + 1) & ring_mask;
    --count_;
  }
  // Erasing may have moved entries, so probe again.
  table_[find_slot(key)] = key;
  ring_[(head_ + count_) & ring_mask] = key;
  ++count_;
  return true;
}

void RecentSet::insert_all(std::span<const std::uint64_t> hashes) {
  constexpr std::size_t kAhead = 8;
  const std::size_t ring_mask = ring_.size() - 1;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    if (i + kAhead < hashes.size()) {
      prefetch(hashes[i + kAhead]);
      // The entry that insert will evict then (when the ring is full).
      if (count_ == ring_.size()) __builtin_prefetch(&table_[ring_[(head_ + i + kAhead) & ring_mask] & mask_]);
    }
    insert(hashes[i]);
  }
}

void RecentSet::erase(std::uint64_t key) {
  std::size_t i = find_slot(key);
  if (table_[i] != key) return;
  // Backward-shift deletion: pull later entries of the probe run into the
  // hole when their home slot does not lie strictly between hole and them.
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (table_[j] == 0) break;
    const std::size_t home = table_[j] & mask_;
    const bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = 0;
}

std::uint64_t datagram_hash(ByteSpan d) {
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

}  // namespace armored::gateway
