#pragma once
// A TlsContext is the loaded policy of one endpoint: trust anchors, CRL, our
// certificate and key, cipher policy, ticket keys (server) and counters.
// Connections are created from it; it must outlive them. OpenSSL types stay
// behind the opaque Impl so callers never include OpenSSL headers.

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "tls/config.h"
#include "tls/counters.h"

namespace armored::tls {

struct PeerIdentity;  // tls/connection.h

class TlsContext {
 public:
  // Loads files and builds the OpenSSL context. Fails with a message naming
  // the file or setting that is wrong. `clock` is used for certificate and
  // CRL validity, ticket-key rotation and the 0-RTT replay register.
  static Expected<std::unique_ptr<TlsContext>> create(const TlsConfig& config, Clock& clock);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Loads the CRL file again (e.g. after `armored pki` revoked a gateway).
  // Each CRL's signature is checked against the CA and intermediate
  // certificates first; on any failure the previous CRL stays in force.
  // New handshakes and resumptions are checked against it. Returns the
  // revoked serials (upper-case hex, as PeerIdentity::serial).
  Expected<std::vector<std::string>> reload_crl();

  const TlsConfig& config() const;
  Clock& clock() const;
  // Our own identity, from the urn:armored SAN of the certificate we
  // present (kind kNone if it has none), so a program can check at start
  // that it is who its configuration says.
  PeerIdentity own_identity() const;
  TlsCounters& counters();
  const TlsCounters& counters() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit TlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armored::tls
