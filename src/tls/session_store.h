#pragma once
// Client session-ticket store on disk: one file per server name and port,
// written atomically with mode 0600, so a restarted client resumes (and can
// send 0-RTT) with the ticket it saved before. Entries older than the
// ticket lifetime or the configured maximum age, and corrupt files, are
// ignored with a warning; they never crash the client.
//
// File layout (big-endian): "ATK1" | u64 saved_at_unix | u32 lifetime_s |
// u32 max_early_data | u16 port | u16 host_len | host | u32 der_len | der |
// SHA-256 of everything before it.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/result.h"
#include "tls/connection.h"

namespace armored::tls {

class SessionStore {
 public:
  static constexpr std::size_t kMaxEntryBytes = 16 * 1024;

  SessionStore(std::filesystem::path dir, Clock& clock,
               std::chrono::seconds max_age = std::chrono::hours(2));

  // The saved session for host:port if present, intact and young enough.
  std::optional<Bytes> load(const std::string& host, std::uint16_t port) const;
  // Replaces the entry for host:port.
  Status save(const std::string& host, std::uint16_t port, const NewSessionTicket& ticket);
  // Deletes the entry (e.g. after the server refused it).
  void forget(const std::string& host, std::uint16_t port);
  std::filesystem::path path_for(const std::string& host, std::uint16_t port) const;

 private:
  std::filesystem::path dir_;
  Clock& clock_;
  std::chrono::seconds max_age_;
};

}  // namespace armored::tls
