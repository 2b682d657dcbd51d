#pragma once
// The audit-trail row `armored cloud` writes when a peer completes the
// mutual-TLS handshake (store::EventKind::kConnected). `armored audit fleet`
// reads these rows to find revoked identities that still got in and
// identities that never connected.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "store/types.h"
#include "tls/connection.h"

namespace armored::cloud {

class ConnectionEvents {
 public:
  // Reads the serial of every identity from the PKI index in `pki_dir`
  // (pki.json). A directory without an index is not an error: events then
  // carry serial=unknown.
  static ConnectionEvents load(const std::filesystem::path& pki_dir, Clock::TimePoint now);

  // peer = the verified identity; reason = "full handshake" / "resumed" /
  // "0-RTT"; detail = "serial=<hex> uri=<SAN URI> from=<addr> <version> <cipher>".
  // The serial is the one the PKI issued for that identity: the TLS layer
  // names the identity, not the certificate, and an ID is never reissued.
  store::SecurityEvent make(std::int64_t at_ms, const tls::HandshakeComplete& hc,
                            std::string_view peer_address) const;

  std::size_t known() const { return serials_.size(); }

 private:
  std::unordered_map<std::string, std::string> serials_;  // identity -> serial (hex)
};

}  // namespace armored::cloud
