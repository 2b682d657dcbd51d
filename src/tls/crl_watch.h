#pragma once
// Keeps a running endpoint's CRL current: reloads it on SIGHUP and whenever
// the CRL file's modification time or size changes (polled), so `armored pki
// revoke` takes effect without a restart. A CRL that fails to load or verify
// leaves the previous one in force (never fail open) and is logged once.

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tls/context.h"

namespace armored::tls {

class CrlWatcher {
 public:
  // Called on the io thread after a successful reload with every revoked serial.
  using OnReload = std::function<void(const std::vector<std::string>& revoked_serials)>;

  // `interval` 0: reload on SIGHUP only. `who` prefixes the log lines ("cloud").
  CrlWatcher(asio::io_context& io, TlsContext& ctx, std::chrono::seconds interval, std::string who,
             OnReload on_reload);
  // Installs the SIGHUP handler and the poll timer.
  void start();
  // Cancels both so the io_context can run out of work. Idempotent.
  void stop();
  // Reloads now; false if the CRL was kept.
  bool reload(const char* why);

 private:
  struct Stamp {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() const;
  void wait_signal();
  void wait_timer();

  TlsContext& ctx_;
  std::chrono::seconds interval_;
  std::string who_;
  OnReload on_reload_;
  asio::signal_set hup_;
  asio::steady_timer timer_;
  Stamp last_{};
  bool stopped_ = false;
};

}  // namespace armored::tls
