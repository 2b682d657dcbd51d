#pragma once
// `armored audit tls HOST:PORT`: probes one TLS endpoint the user named.
// It offers each protocol version (TLS 1.0-1.3), enumerates the TLS 1.2 and
// 1.3 suites the server accepts, reads and verifies the certificate chain,
// tests client-certificate requirement, session resumption and 0-RTT, and
// optionally tries plaintext MQTT on the same host. The probe sends no
// application data; old versions are offered only to see if they are accepted.

#include <cstdint>
#include <string>

#include "audit/report.h"
#include "common/result.h"

namespace armored::audit {

struct TlsProbeOptions {
  std::string host;
  std::uint16_t port = 0;
  std::string sni;          // default: host, unless host is an IP literal
  std::string ca_file;      // chain must verify to these; default: system store
  std::string client_cert;  // PEM, with client_key
  std::string client_key;
  std::string client_chain; // PEM intermediates sent after client_cert (e.g. issuing-ca.crt)
  bool mqtt = false;        // also try plaintext MQTT CONNECT
  std::uint16_t mqtt_port = 1883;
  int timeout_ms = 5000;    // per network step
};

std::span<const RuleInfo> tls_rules();

// Fails only when the endpoint cannot be reached at all.
Expected<Report> audit_tls(const TlsProbeOptions& options);

// Result of the plaintext MQTT check (exposed for tests).
struct MqttProbeResult {
  bool reachable = false;       // TCP connect succeeded
  bool answered = false;        // a CONNACK came back
  int connack_code = -1;        // 0 accepted, 4/5 refused (credentials / not authorised)
  std::string detail;
};
MqttProbeResult probe_plain_mqtt(const std::string& host, std::uint16_t port, int timeout_ms);

}  // namespace armored::audit
