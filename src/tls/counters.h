#pragma once
// Counters shared by every connection of one TlsContext. Atomic so runners
// on several threads may share a context.

#include <array>
#include <atomic>
#include <cstdint>

#include "tls/error.h"

namespace armored::tls {

struct TlsCounters {
  std::atomic<std::uint64_t> full_handshakes{0};
  std::atomic<std::uint64_t> resumed_handshakes{0};
  std::atomic<std::uint64_t> zero_rtt_handshakes{0};  // resumed with early data accepted
  std::atomic<std::uint64_t> early_data_accepted{0};
  std::atomic<std::uint64_t> early_data_rejected{0};
  std::atomic<std::uint64_t> early_data_replays_refused{0};  // ticket seen before
  std::array<std::atomic<std::uint64_t>, kReasonCount> failures{};

  std::uint64_t failures_for(Reason r) const {
    return failures[static_cast<std::size_t>(r)].load();
  }
};

}  // namespace armored::tls
