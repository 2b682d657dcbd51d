#pragma once
// Internal to src/tls: what a TlsContext holds.

#include <memory>

#include "common/clock.h"
#include "tls/config.h"
#include "tls/context.h"
#include "tls/counters.h"
#include "tls/openssl_util.h"
#include "tls/replay_register.h"
#include "tls/ticket_keys.h"

namespace armored::tls {

struct TlsContext::Impl {
  TlsConfig config;
  Clock* clock = nullptr;
  detail::SslCtxPtr ctx;
  TlsCounters counters;
  std::unique_ptr<TicketKeyRing> ticket_keys;   // servers
  std::unique_ptr<ReplayRegister> replay;       // servers accepting 0-RTT
};

}  // namespace armored::tls
