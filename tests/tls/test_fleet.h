#pragma once
// The TLS tests' fleet: a PKI on disk (root -> issuing CA -> leaves) plus helpers that
// build client/server configs and pump bytes between two sans-I/O
// connections in memory.

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "support/process.h"
#include "tls/config.h"
#include "tls/connection.h"
#include "tls/context.h"
#include "tls/test_pki.h"

namespace armored::testing {

struct Fleet {
  Fleet();
  TempDir dir;
  std::unique_ptr<TestAuthority> root;
  std::unique_ptr<TestAuthority> issuing;
  std::filesystem::path ca_file, crl_file, issuing_file;  // issuing_file: intermediate PEM
  Issued server, gateway;
  std::filesystem::path server_chain, server_key, gateway_chain, gateway_key;

  // Writes the CRL again (after revoke()).
  void rewrite_crl();
  // Issues a leaf from the issuing CA and writes it as <name>.crt/.key.
  std::filesystem::path add_leaf(const std::string& name, const LeafSpec& spec);

  tls::TlsConfig server_config() const;
  tls::TlsConfig client_config() const;
};

LeafSpec server_spec();
LeafSpec gateway_spec(const std::string& id = "gw-1");

// Events collected on each side of an in-memory exchange.
struct Exchange {
  std::vector<tls::Event> client_events, server_events;
  std::size_t client_to_server_bytes = 0, server_to_client_bytes = 0;
  int flights = 0;  // number of non-empty transfers in either direction
};

// Moves bytes between the two connections until neither has output
// (bounded to 64 rounds). Calls client.start() first if `start`.
Exchange pump(tls::Connection& client, tls::Connection& server, Clock::TimePoint now, bool start);

template <typename T>
const T* find_event(const std::vector<tls::Event>& events) {
  for (auto& e : events) {
    if (auto* p = std::get_if<T>(&e)) return p;
  }
  return nullptr;
}
std::string app_bytes(const std::vector<tls::Event>& events, bool early_only = false);

}  // namespace armored::testing
