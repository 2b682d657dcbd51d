#pragma once
// Internal to src/tls: per-connection state that OpenSSL callbacks update.
// Reached from an SSL* through SSL_get_app_data.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tls/connection.h"
#include "tls/error.h"

namespace armored::tls::detail {

struct ConnectionState {
  TlsContext::Impl* ctx = nullptr;
  bool server = false;
  // The caller's time from the last start() or feed(): OpenSSL's callbacks
  // (ticket keys, the 0-RTT replay register) judge by it instead of reading
  // a clock, so the core's time is only what its caller passed in.
  Clock::TimePoint now{};
  // First verification failure our callback saw (wins over OpenSSL's
  // generic "certificate verify failed").
  Reason verify_reason = Reason::kNone;
  std::string verify_detail;
  PeerIdentity peer;
  // Server: SHA-256 of the ClientHello's pre_shared_key extension (ticket +
  // binder), the key of the 0-RTT replay register.
  bool offered_psk = false;
  std::array<std::uint8_t, 32> psk_extension_hash{};
  // Events raised inside callbacks (new tickets), drained by feed().
  std::vector<Event> events;
};

ConnectionState* state_of(SSL* ssl);

// Installs the verify, ticket-key, ClientHello, early-data and new-session
// callbacks on `ctx` according to its role.
void install_callbacks(TlsContext::Impl& impl);

// Extracts urn:armored:{gateway,device}:<id> from a certificate's SAN URIs.
PeerIdentity identity_from_certificate(X509* cert);

}  // namespace armored::tls::detail
