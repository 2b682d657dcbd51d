#pragma once
// `armored gateway` configuration (TOML); config/gateway.toml documents
// every option with its default. The gateway has no E3 key and no option
// for one: it forwards what it cannot read.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/http_listener.h"
#include "spool/spool.h"
#include "tls/config.h"

namespace armored::gateway {

struct GatewayConfig {
  std::string id;  // must match the certificate's urn:armored:gateway:<id>
  // [udp] device ingress
  std::string udp_address = "127.0.0.1";
  std::uint16_t udp_port = 5683;
  // [cloud] where to forward (our cloud endpoint or an MQTT broker)
  std::string cloud_host = "localhost";
  std::uint16_t cloud_port = 8883;
  // [cloud] alternates: other fronts of a scaled cloud, "host:port", tried in
  // turn when the current one cannot be reached (docs/scale-out.md).
  std::vector<std::pair<std::string, std::uint16_t>> cloud_alternates;
  tls::TlsConfig tls;
  std::filesystem::path ticket_dir = "tickets";
  std::chrono::seconds ticket_max_age{7200};
  std::uint16_t keep_alive_s = 30;
  // [spool]
  std::filesystem::path spool_dir = "spool";
  std::size_t spool_max_bytes = std::size_t{1} << 30;
  // Damage found at start: keep every intact record and move the damaged
  // bytes aside (quarantine), or refuse to start (strict). docs/spool.md.
  spool::OnCorruption spool_on_damage = spool::OnCorruption::kQuarantine;
  // A second copy of every segment, repaired from at start (docs/spool.md,
  // "Mirror"); none by default. Never the spool dir or inside it.
  std::optional<std::filesystem::path> spool_mirror;
  // [forward]
  std::size_t batch_max_messages = 255;
  std::size_t max_inflight = 256;  // PUBLISH packets awaiting PUBACK (each acknowledged after an fsync)
  std::size_t early_data_max_bytes = 12 * 1024;
  // What lets a batch leave the spool (docs/broker.md, "Receipts"). kPuback:
  // the server's PUBACK, right when the server is `armored cloud`, which
  // answers only after its commit. kReceipt: the cloud's signed receipt,
  // for a path through a broker, whose PUBACK says only that the broker has it.
  enum class Confirm : std::uint8_t { kPuback, kReceipt };
  Confirm confirm = Confirm::kPuback;
  // The cloud's certificate (or public key) the receipts must verify under.
  std::filesystem::path receipt_signer;
  // A batch the broker acknowledged but no receipt named within this is sent
  // again (the wait doubles while none comes, up to 10 minutes).
  std::chrono::seconds receipt_timeout{60};
  // [backoff]
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
  // [status]
  std::chrono::seconds status_interval{5};
  config::HttpListener metrics;  // [metrics]: off unless a port is set
};

Expected<GatewayConfig> load_gateway_config(const std::filesystem::path& path);
Expected<GatewayConfig> parse_gateway_config(std::string_view text, const std::filesystem::path& path);

}  // namespace armored::gateway
