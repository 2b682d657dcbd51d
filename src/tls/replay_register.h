#pragma once
// Per-instance 0-RTT anti-replay (RFC 8446 8.1, single-use tickets): the
// server remembers the hash of each ticket whose early data it accepted and
// refuses early data with the same ticket again. Bounded: when full it
// refuses all early data (falls back to 1-RTT) rather than forget entries.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "common/clock.h"

namespace armored::tls {

class ReplayRegister {
 public:
  using Key = std::array<std::uint8_t, 32>;
  // `lifetime`: how long an entry is kept (the ticket lifetime: older
  // tickets are refused by the ticket check anyway).
  ReplayRegister(std::size_t capacity, std::chrono::seconds lifetime)
      : capacity_(capacity), lifetime_(lifetime) {}

  // True if `key` was not seen in the window (and records it); false if it
  // is a replay or the register is full.
  bool admit(const Key& key, Clock::TimePoint now);
  std::size_t size() const;

 private:
  std::size_t capacity_;
  std::chrono::seconds lifetime_;
  mutable std::mutex mu_;
  std::set<Key> seen_;
  std::multimap<Clock::TimePoint, Key> expiry_;
};

}  // namespace armored::tls
