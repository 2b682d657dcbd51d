#pragma once
// Server session-ticket encryption keys with scheduled rotation. The newest
// key encrypts; older keys still decrypt for as long as a ticket they sealed
// can be valid (rotation interval + ticket lifetime), then are erased.
// Optionally the ring lives in a key file, so tickets survive a restart.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
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
  // Keys are loaded from `key_file` and written back to it (mode 0600,
  // atomically) whenever a key is added, so a restarted server still opens
  // the tickets it issued before. A missing file starts an empty ring; an
  // unreadable or corrupt one is ignored with a warning (clients then make
  // one full handshake), as are keys dated after `now` or already retired.
  TicketKeyRing(std::chrono::seconds rotation, std::chrono::seconds ticket_lifetime,
                std::filesystem::path key_file, Clock::TimePoint now);

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
  void save_locked();

  std::chrono::seconds rotation_;
  std::chrono::seconds lifetime_;
  std::filesystem::path file_;  // empty: memory only
  mutable std::mutex mu_;
  std::deque<TicketKey> keys_;  // newest first
};

}  // namespace armored::tls
