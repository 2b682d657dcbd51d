#include "cloud/connection_event.h"

#include <system_error>

#include "common/log.h"
#include "pki/pki.h"

namespace armored::cloud {

ConnectionEvents ConnectionEvents::load(const std::filesystem::path& pki_dir, Clock::TimePoint now) {
  ConnectionEvents out;
  std::error_code ec;
  if (pki_dir.empty() || !std::filesystem::exists(pki::Authority::index_path(pki_dir), ec)) return out;
  auto authority = pki::Authority::open(pki_dir, pki::Authority::Access::read_only);
  if (!authority) {
    spdlog::warn("cloud: connection events without serials: {}", authority.error().message);
    return out;
  }
  for (const auto& e : authority->list(now)) {
    out.serials_.emplace(e.identity.id, e.identity.serial);
  }
  return out;
}

store::SecurityEvent ConnectionEvents::make(std::int64_t at_ms, const tls::HandshakeComplete& hc,
                                            std::string_view peer_address) const {
  auto it = serials_.find(hc.peer.id);
  std::string serial = it == serials_.end() ? "unknown" : it->second;
  std::string reason = hc.early_data_accepted ? "0-RTT" : hc.resumed ? "resumed" : "full handshake";
  std::string detail = "serial=" + serial + " uri=" + hc.peer.uri + " from=" + std::string(peer_address) + " " +
                       hc.version + " " + hc.cipher;
  return {at_ms, store::EventKind::kConnected, std::move(reason), hc.peer.id, std::move(detail)};
}

}  // namespace armored::cloud
