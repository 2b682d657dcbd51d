#pragma once
// Internal to src/e3: the Opener's keyed AEAD contexts, for at most
// `capacity` epochs, the least recently used re-keyed for the next one.
//
// An epoch's keys are held as bytes (EpochMaterial) for every device; an
// OpenSSL context (about a kilobyte each) exists only for the epochs in
// here. A hit costs a few pointer moves; a miss runs the key schedule in
// the evicted entry's context (re-keyed, not reallocated), so the hot path
// allocates nothing once the cache is full. The cloud's side only: uplink
// contexts open, downlink contexts seal.
//
// A slot refers to its entry by index and tag; an entry handed to another
// epoch gets a new tag, so a slot whose entry went elsewhere simply misses.
// No entry points back at a slot, so a slot may go away at any time.

#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/aead.h"
#include "e3/epoch.h"

namespace armored::e3::internal {

class AeadCache {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  // What a slot keeps to find its entry again.
  struct Ref {
    std::uint32_t index = kNone;
    std::uint64_t tag = 0;
  };

  explicit AeadCache(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The context of `m` for `direction`, keyed on a miss. Null if keying
  // failed (OpenSSL out of memory); ref_ then refers to nothing. The hit is
  // inline: it is on the path of every envelope.
  const crypto::AeadContext* get(Ref& ref_, const EpochMaterial& m, MessageType direction) {
    const int d = direction == MessageType::kUplink ? 0 : 1;
    if (ref_.index < entries_.size()) {
      Entry& e = entries_[ref_.index];
      if (e.tag == ref_.tag && e.keyed[d]) {
        if (ref_.index != head_) {
          unlink(ref_.index);
          push_front(ref_.index);
        }
        return &*e.ctx[d];
      }
    }
    return get_slow(ref_, m, direction);
  }
  // The epoch behind ref_ is gone: its contexts are freed (and its keys
  // with them) if the entry is still its own.
  void forget(Ref& ref_);

  std::size_t size() const { return entries_.size() - free_count_; }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::uint64_t tag = 0;  // 0: free
    std::uint32_t prev = kNone, next = kNone;
    std::optional<crypto::AeadContext> ctx[2];  // uplink (open), downlink (seal)
    bool keyed[2] = {false, false};             // for the epoch of `tag`
  };
  const crypto::AeadContext* get_slow(Ref& ref_, const EpochMaterial& m, MessageType direction);
  void unlink(std::uint32_t i);
  void push_front(std::uint32_t i);
  std::uint32_t take_entry();

  std::size_t capacity_;
  std::vector<Entry> entries_;
  std::uint32_t head_ = kNone, tail_ = kNone;  // most, least recently used
  std::size_t free_count_ = 0;                 // forgotten entries, at the tail
  std::uint64_t next_tag_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace armored::e3::internal
