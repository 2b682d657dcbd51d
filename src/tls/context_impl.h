#pragma once
// Internal to src/tls: what a TlsContext holds.

#include <memory>
#include <mutex>
#include <vector>

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
  // Trust anchors + CRLs used to verify peers. Each connection takes a
  // reference when created, so reload_crl() can swap in a new store while
  // handshakes on other threads still use the old one.
  std::mutex store_mu;
  detail::X509StorePtr verify_store;
  // The issuing CA(s) from config.intermediates: besides being sent after
  // our leaf, they complete the chain of a peer that sends only its leaf
  // (standard MQTT clients given `armored pki`'s <id>.crt). Untrusted:
  // every chain must still end at a trust anchor in verify_store.
  std::vector<detail::X509Ptr> known_intermediates;

  // A new reference to the current verify store.
  X509_STORE* acquire_verify_store() {
    std::lock_guard lock(store_mu);
    X509_STORE_up_ref(verify_store.get());
    return verify_store.get();
  }
};

}  // namespace armored::tls
