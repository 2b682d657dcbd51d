// The plaintext MQTT check of `audit tls --mqtt`: one CONNECT without
// credentials, read the CONNACK, DISCONNECT. Nothing is published.

#include <unistd.h>

#include "audit/internal/net.h"
#include "audit/tls_probe.h"

namespace armored::audit {

MqttProbeResult probe_plain_mqtt(const std::string& host, std::uint16_t port, int timeout_ms) {
  MqttProbeResult r;
  auto deadline = [&] { return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms); };
  auto sock = connect_tcp(host, port, deadline());
  if (!sock) {
    r.detail = sock.error().message;
    return r;
  }
  r.reachable = true;
  // MQTT 3.1.1 CONNECT [MQTT-3.1]: clean session, keep-alive 10 s, no
  // username or password, a client id naming the probe.
  std::string client_id = "armored-audit-" + std::to_string(::getpid());
  Bytes pkt;
  pkt.reserve(16 + client_id.size());  // also keeps GCC 12 -O3 from a false -Wstringop-overflow
  ByteWriter w(pkt);
  w.u8(0x10);
  w.u8(static_cast<std::uint8_t>(10 + 2 + client_id.size()));
  w.u16be(4);
  w.str("MQTT");
  w.u8(4);     // protocol level 3.1.1
  w.u8(0x02);  // clean session
  w.u16be(10);
  w.u16be(static_cast<std::uint16_t>(client_id.size()));
  w.str(client_id);
  if (auto s = send_all(*sock, pkt, deadline()); !s) {
    r.detail = s.error().message;
    return r;
  }
  Bytes got;
  auto until = deadline();
  while (got.size() < 4) {
    auto part = recv_some(*sock, 4 - got.size(), until);
    if (!part || part->empty()) {
      r.detail = part ? "connection closed without CONNACK" : part.error().message;
      return r;
    }
    got.insert(got.end(), part->begin(), part->end());
  }
  if (got[0] != 0x20 || got[1] != 0x02) {
    r.detail = "answer is not an MQTT CONNACK";
    return r;
  }
  r.answered = true;
  r.connack_code = got[3];
  r.detail = "CONNACK return code " + std::to_string(r.connack_code);
  static const std::uint8_t kDisconnect[] = {0xE0, 0x00};
  (void)send_all(*sock, ByteSpan(kDisconnect, 2), deadline());
  return r;
}

}  // namespace armored::audit
