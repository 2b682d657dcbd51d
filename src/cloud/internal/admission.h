#pragma once
// Who gets a connection slot on the cloud's listener, so that one source
// cannot lock everyone else out (sans-I/O: the caller passes addresses,
// identities and counts; no sockets, no clock).
//
//   - max_connections: all connections together. At the limit a new one is
//     refused unless an unauthenticated connection can be evicted (the
//     caller closes the oldest one still in its handshake).
//   - max_per_address: connections from one source IP address, whatever
//     their state; the rest of a flood from one address is refused at once.
//   - max_per_identity: authenticated connections of one certificate
//     identity; a newer one replaces the oldest (as an MQTT server replaces
//     a client id's old connection, [MQTT-3.1.4-2]), so a gateway that
//     reconnects is never locked out by its own stale connections and one
//     stolen key cannot fill the listener.
//   - the handshake deadline shrinks as the listener fills up.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace armored::cloud {

struct AdmissionLimits {
  std::size_t max_connections = 10000;
  std::size_t max_per_address = 64;
  std::size_t max_per_identity = 4;
  // Deadline for the TLS handshake: `handshake_timeout` while at most half
  // of max_connections are in use, then shrinking linearly to
  // `handshake_timeout_min` when all are.
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds handshake_timeout_min{1000};
};

enum class Admit : std::uint8_t {
  kAccept,          // counted; call release() when it closes
  kEvictThenAccept, // at the global limit: close the oldest unauthenticated connection first
  kRefuseGlobal,    // max_connections reached, nothing to evict
  kRefuseAddress,   // max_per_address reached for this address
};
std::string_view to_string(Admit a);

class Admission {
 public:
  explicit Admission(AdmissionLimits limits);

  // A new TCP connection from `address` (IP, no port). `unauthenticated`:
  // how many open connections are still in their handshake (evictable).
  // kAccept and kEvictThenAccept count it against the address.
  Admit admit(std::string_view address, std::size_t unauthenticated);
  // The connection from `address` has closed.
  void release(std::string_view address);

  // A connection authenticated as `identity` ("gateway:gw1"). Returns how many
  // of that identity are now open; above max_per_identity the caller closes
  // its oldest. Pair with identity_closed().
  std::size_t identity_opened(const std::string& identity);
  void identity_closed(const std::string& identity);

  // The handshake deadline for the current number of open connections.
  std::chrono::milliseconds handshake_timeout() const;

  std::size_t open() const { return open_; }
  std::size_t addresses() const { return per_address_.size(); }
  const AdmissionLimits& limits() const { return limits_; }

 private:
  AdmissionLimits limits_;
  std::size_t open_ = 0;
  std::map<std::string, std::size_t, std::less<>> per_address_;
  std::map<std::string, std::size_t, std::less<>> per_identity_;
};

}  // namespace armored::cloud
