#pragma once
// Runs a test client (testing::ClientLink over tls::Duplex) to completion on
// a private io_context: connect, handshake, send, read one reply, save tickets.

#include <string>

#include "tls/client_link.h"

namespace armored::testing {

struct ClientRun {
  Result<tls::HandshakeComplete, tls::TlsError> handshake =
      unexpected(tls::TlsError{tls::Reason::kInternal, "not run"});
  std::string reply;
};

ClientRun run_client(tls::TlsContext& ctx, ConnectOptions opts, const std::string& send,
                     bool read_reply = true, bool wait_ticket = false);

}  // namespace armored::testing
