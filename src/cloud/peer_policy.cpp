#include "cloud/internal/peer_policy.h"

#include <algorithm>

#include "common/hex.h"
#include "e3/batch.h"
#include "e3/wire.h"

namespace armored::cloud {

using Kind = tls::PeerIdentity::Kind;

std::string_view role_name(Kind kind) {
  switch (kind) {
    case Kind::kGateway: return "gateway";
    case Kind::kDevice: return "device";
    case Kind::kNone: break;
  }
  return "none";
}

PeerPolicy::PeerPolicy(std::map<std::string, Bytes, std::less<>> device_kids)
    : device_kids_(std::move(device_kids)) {}

std::optional<std::string> PeerPolicy::refuse(const tls::PeerIdentity& peer) const {
  const bool enrolled = device_kids_.find(peer.id) != device_kids_.end();
  switch (peer.kind) {
    case Kind::kDevice:
      if (!enrolled) return "device identity '" + peer.id + "' is not an enrolled device";
      return std::nullopt;
    case Kind::kGateway:
      if (enrolled) return "gateway identity '" + peer.id + "' is the id of an enrolled device";
      return std::nullopt;
    case Kind::kNone:
      break;
  }
  return "no armored identity";
}

std::optional<std::string> PeerPolicy::refuse_uplink(const tls::PeerIdentity& peer, ByteSpan payload) const {
  if (peer.kind != Kind::kDevice) return std::nullopt;
  auto own = device_kids_.find(peer.id);
  if (own == device_kids_.end()) return "device identity '" + peer.id + "' is not an enrolled device";
  auto check = [&](ByteSpan message) -> std::optional<std::string> {
    auto h = e3::parse_header(message);
    if (!h) return std::nullopt;
    if (std::equal(h->kid.begin(), h->kid.end(), own->second.begin(), own->second.end())) return std::nullopt;
    return "device '" + peer.id + "' sent a message under key ID " + to_hex(h->kid) + ", not its own";
  };
  if (!e3::is_batch(payload)) return check(payload);
  auto messages = e3::decode_batch(payload, {255, 4096});
  if (!messages) return std::nullopt;
  for (ByteSpan m : *messages) {
    if (auto why = check(m)) return why;
  }
  return std::nullopt;
}

}  // namespace armored::cloud
