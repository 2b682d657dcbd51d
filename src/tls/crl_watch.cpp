#include "tls/crl_watch.h"

#include <csignal>

#include "common/log.h"

namespace armored::tls {

CrlWatcher::CrlWatcher(asio::io_context& io, TlsContext& ctx, std::chrono::seconds interval, std::string who,
                       OnReload on_reload)
    : ctx_(ctx), interval_(interval), who_(std::move(who)), on_reload_(std::move(on_reload)), hup_(io),
      timer_(io) {}

CrlWatcher::Stamp CrlWatcher::stamp() const {
  std::error_code ec;
  Stamp s;
  s.mtime = std::filesystem::last_write_time(ctx_.config().crl_file, ec);
  if (ec) return {};
  s.size = std::filesystem::file_size(ctx_.config().crl_file, ec);
  if (ec) return {};
  return s;
}

void CrlWatcher::start() {
  if (ctx_.config().crl_file.empty()) return;
  last_ = stamp();  // the CRL the context was created with
  asio::error_code ec;
  hup_.add(SIGHUP, ec);
  if (ec) spdlog::warn("{}: cannot handle SIGHUP ({}); CRL reloads only when the file changes", who_, ec.message());
  wait_signal();
  if (interval_.count() > 0) wait_timer();
}

void CrlWatcher::stop() {
  stopped_ = true;
  asio::error_code ec;
  hup_.cancel(ec);
  hup_.clear(ec);
  timer_.cancel();
}

bool CrlWatcher::reload(const char* why) {
  // Remember the stamp even when the load fails: one log line per change of
  // the file, not one per poll. A fixed file changes the stamp again.
  last_ = stamp();
  auto revoked = ctx_.reload_crl();
  if (!revoked) {
    spdlog::error("{}: CRL {} not reloaded ({}), keeping the previous one: {}", who_,
                  ctx_.config().crl_file.string(), why, revoked.error().message);
    return false;
  }
  // warn: shown at the default log level; a changed CRL is a security event.
  spdlog::warn("{}: CRL {} reloaded ({}): {} revoked serials", who_, ctx_.config().crl_file.string(), why,
               revoked->size());
  if (on_reload_) on_reload_(*revoked);
  return true;
}

void CrlWatcher::wait_signal() {
  hup_.async_wait([this](const asio::error_code& ec, int) {
    if (ec || stopped_) return;
    reload("SIGHUP");
    wait_signal();
  });
}

void CrlWatcher::wait_timer() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    if (!(stamp() == last_)) reload("file changed");
    wait_timer();
  });
}

}  // namespace armored::tls
