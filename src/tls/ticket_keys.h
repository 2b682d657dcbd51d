#pragma once
// Server session-ticket encryption keys with scheduled rotation. The newest
// key encrypts; older keys still decrypt for as long as a ticket they sealed
// can be valid (rotation interval + ticket lifetime), then are erased.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "common/clock.h"

namespace armored::tls {

struct TicketKey {
  std::array<std::uint8_t, 16> name{};
  std::array<std::uint8_t, 32> aes_key{};
  std::array<std::uint8_t, 32> hmac_key{};
  Clock::TimePoint created{};
};

class TicketKeyRing {
 public:
  TicketKeyRing(std::chrono::seconds rotation, std::chrono::seconds ticket_lifetime)
      : rotation_(rotation), lifetime_(ticket_lifetime) {}

  // The key to encrypt new tickets with at `now`, rotating first if due.
  TicketKey encryption_key(Clock::TimePoint now);
  // The key named `name` if still usable for decryption at `now`, and whether
  // it is the current encryption key (if not, the ticket should be renewed).
  struct Found {
    TicketKey key;
    bool current = false;
  };
  std::optional<Found> decryption_key(const std::array<std::uint8_t, 16>& name,
                                      Clock::TimePoint now);
  std::size_t size() const;

 private:
  void rotate_locked(Clock::TimePoint now);
  void expire_locked(Clock::TimePoint now);

  std::chrono::seconds rotation_;
  std::chrono::seconds lifetime_;
  mutable std::mutex mu_;
  std::deque<TicketKey> keys_;  // newest first
};

}  // namespace armored::tls
