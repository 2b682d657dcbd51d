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
#include <memory>
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

// Where several servers keep one ring (the fronts of a scaled cloud,
// docs/scale-out.md): a ticket any of them issued resumes at any other.
// Calls come from the TLS callbacks of handshakes; an implementation that
// cannot answer returns nullopt and the ring carries on with its own keys.
class TicketKeySource {
 public:
  virtual ~TicketKeySource() = default;
  // Every key the servers share now.
  virtual std::optional<std::deque<TicketKey>> load() = 0;
  // Adds `candidate` unless a key created at or after `due_before` exists
  // (another server rotated first), drops keys created before
  // `retired_before`, in one step; returns every key then shared.
  virtual std::optional<std::deque<TicketKey>> rotate(const TicketKey& candidate, Clock::TimePoint due_before,
                                                      Clock::TimePoint retired_before) = 0;
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

  // Keys shared with other servers through `source` (file_ is not used).
  TicketKeyRing(std::chrono::seconds rotation, std::chrono::seconds ticket_lifetime,
                std::shared_ptr<TicketKeySource> source, Clock::TimePoint now);

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
  void adopt_locked(std::deque<TicketKey> keys, Clock::TimePoint now);

  std::chrono::seconds rotation_;
  std::chrono::seconds lifetime_;
  std::filesystem::path file_;  // empty: memory only
  std::shared_ptr<TicketKeySource> source_;  // set: shared with other servers
  Clock::TimePoint reloaded_at_{};           // the last load() for an unknown ticket name
  mutable std::mutex mu_;
  std::deque<TicketKey> keys_;  // newest first
};

}  // namespace armored::tls
