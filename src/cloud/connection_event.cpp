#include "cloud/internal/connection_event.h"

#include <string>

namespace armored::cloud {

store::SecurityEvent connected_event(std::int64_t at_ms, const tls::HandshakeComplete& hc,
                                     std::string_view peer_address) {
  std::string reason = hc.early_data_accepted ? "0-RTT" : hc.resumed ? "resumed" : "full handshake";
  std::string serial = hc.peer.serial.empty() ? "unknown" : hc.peer.serial;
  std::string detail = "serial=" + serial + " uri=" + hc.peer.uri + " from=" + std::string(peer_address) + " " +
                       hc.version + " " + hc.cipher;
  return {at_ms, store::EventKind::kConnected, std::move(reason), hc.peer.id, std::move(detail)};
}

}  // namespace armored::cloud
