#pragma once
// The audit-trail row `armored cloud` writes when a peer completes the
// mutual-TLS handshake (store::EventKind::kConnected). `armored audit fleet`
// reads these rows to find revoked certificates that still got in and
// identities that never connected.

#include <cstdint>
#include <string_view>

#include "store/types.h"
#include "tls/connection.h"

namespace armored::cloud {

// peer = the verified identity; reason = "full handshake" / "resumed" /
// "0-RTT"; detail = "serial=<hex> uri=<SAN URI> from=<addr> <version> <cipher>".
// The serial is the one of the certificate the peer presented (on a resumed
// handshake: the one it presented when the session was made), so a revoked
// certificate is named even when its identity was given a new one since.
store::SecurityEvent connected_event(std::int64_t at_ms, const tls::HandshakeComplete& hc,
                                     std::string_view peer_address);

}  // namespace armored::cloud
