#pragma once
// Certificate-chain checks of `audit tls`: validity window, key strength,
// signature hash, host name, self-signature, and verification of the chain
// the server sent against the given CA file (or the system store).

#include <openssl/x509.h>

#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace armored::audit {

struct ChainFacts {
  std::string subject, issuer, not_before, not_after;
  long days_left = 0;
  std::string key_type;
  int key_bits = 0;
  std::string signature;
  bool self_signed = false;
  bool name_match = false;
  bool verified = false;
  std::string verify_error;
  std::string trust_anchor;  // CA file or "system store"
  int chain_length = 0;
  std::vector<std::pair<std::string, std::string>> problems;  // rule id, evidence

  nlohmann::json to_json() const;
  std::vector<std::string> summary() const;
};

// `chain` is what the server sent, leaf first. `name` is a DNS name or an IP
// literal. `now` is injected so tests can move the clock.
ChainFacts check_chain(STACK_OF(X509)* chain, const std::string& name, const std::string& ca_file,
                       std::time_t now);

}  // namespace armored::audit
