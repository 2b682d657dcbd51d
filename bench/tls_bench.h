#pragma once
// Shared by the parts of tls_bench (rates, wire bytes, idle memory).

#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/clock.h"
#include "tls/test_fleet.h"

namespace armored::tlsbench {

// A context for `c`, or exit(1) with the reason.
std::unique_ptr<tls::TlsContext> make_ctx(const tls::TlsConfig& c, Clock& clock);

// Re-points `fleet` at certificates from a fresh `armored pki` directory
// (root -> issuing CA -> cloud and gateway leaves with the production
// profile), so figures reflect what deployments send, not the test PKI.
void adopt_armored_pki(testing::Fleet& fleet);

// 2 and 3: bytes on the wire per handshake (ours in memory; openssl s_server
// over TCP with the same client), the ticket's contents, flights to the
// first application byte. `label` names the certificate set.
void wire_and_flights(const testing::Fleet& fleet, Clock& clock, const char* label, bool with_reference);

// 4: heap held per idle established server connection, ours and an OpenSSL
// server with s_server's defaults, plus where the bytes go.
void idle_memory(const testing::Fleet& fleet, Clock& clock);

// Must run before OpenSSL allocates anything: routes OpenSSL's allocations
// through a counter so section 4 can attribute them to source lines.
void install_openssl_allocation_counter();

}  // namespace armored::tlsbench
