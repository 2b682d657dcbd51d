#pragma once
// Internal to src/tls: per-connection state that OpenSSL callbacks update.
// Reached from an SSL* through SSL_get_app_data.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tls/connection.h"
#include "tls/error.h"

namespace armored::tls::detail {

struct ConnectionState {
  TlsContext::Impl* ctx = nullptr;
  bool server = false;
  // First verification failure our callback saw (wins over OpenSSL's
  // generic "certificate verify failed").
  Reason verify_reason = Reason::kNone;
  std::string verify_detail;
  PeerIdentity peer;
  // Server: SHA-256 of the first PSK identity offered (the ticket), for the
  // 0-RTT replay register.
  bool offered_psk = false;
  std::array<std::uint8_t, 32> psk_identity_hash{};
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
