#pragma once
// What a verified peer may do, from the role in its certificate's SAN
// (urn:armored:gateway:<id> or urn:armored:device:<id>) and the device
// registry. Gateways and direct devices share the topic scheme
// armored/v1/<id>/{up,down} (topics.h), so the role decides whose <id> a
// peer may claim:
//   - a device identity must be an enrolled device, and its uplinks may hold
//     only E3 messages under its own key ID (a device speaks for itself);
//   - a gateway identity must not be the id of an enrolled device (its
//     topics would be that device's).
// Sans-I/O: no sockets, no clock.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "tls/connection.h"

namespace armored::cloud {

class PeerPolicy {
 public:
  // `device_kids`: enrolled device id -> its E3 key ID.
  explicit PeerPolicy(std::map<std::string, Bytes, std::less<>> device_kids);

  // Why `peer` may not connect at all, or nullopt when it may.
  std::optional<std::string> refuse(const tls::PeerIdentity& peer) const;

  // For a device identity: nullopt when every E3 message in `payload` (one
  // message or a batch) carries the device's own key ID, else why not.
  // Malformed payloads pass: the ingest rejects and audits them itself.
  // Gateways carry any device's messages: always nullopt.
  std::optional<std::string> refuse_uplink(const tls::PeerIdentity& peer, ByteSpan payload) const;

 private:
  std::map<std::string, Bytes, std::less<>> device_kids_;
};

// "gateway" / "device" / "none".
std::string_view role_name(tls::PeerIdentity::Kind kind);

}  // namespace armored::cloud
