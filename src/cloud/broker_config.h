#pragma once
// The cloud's optional second source: a standard MQTT broker (Mosquitto,
// AWS IoT Core, ...) the cloud subscribes to, reached only over TLS 1.3 with
// the cloud's own client certificate. config/cloud.toml, section [broker],
// documents every option.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tls/config.h"

namespace armored::config {
class TomlDocument;
}

namespace armored::cloud {

struct BrokerUrl {
  std::string host;
  std::uint16_t port = 8883;
};

// Parses "mqtts://host[:port]" (IPv6 as "[::1]"). Any other scheme is
// refused with a message saying why: "mqtt://" and "tcp://" are plaintext.
Expected<BrokerUrl> parse_broker_url(std::string_view url);

struct BrokerConfig {
  std::string url;  // mqtts://host:port; `armored cloud --broker` overrides it
  BrokerUrl endpoint;
  // Name sent as SNI and checked against the broker's certificate. Default:
  // the URL's host (AWS IoT Core wants its endpoint name here).
  std::string server_name;
  // Stable across restarts: with clean session off the broker keeps the
  // subscription and queues messages under this id while the cloud is down.
  std::string client_id = "armored-cloud";
  std::uint16_t keep_alive_s = 30;
  tls::TlsConfig tls;  // client role: the broker's CA, our certificate and key
  std::filesystem::path ticket_dir = "broker-tickets";
  std::chrono::seconds ticket_max_age{7200};
  // Received PUBLISHes not yet durable (and so not yet acknowledged).
  std::size_t max_unacknowledged = 1024;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  // Receipts (docs/broker.md): after each commit the cloud publishes a signed
  // list of the PUBLISH payloads it has durably processed on
  // armored/v1/<id>/receipts, so gateways keep a batch until the cloud, not
  // the broker, has it. Signed with `receipt_key`, default the cloud's own
  // [tls] key (gateways pin the matching certificate).
  bool receipts = true;
  std::filesystem::path receipt_key_file;
  std::chrono::milliseconds receipt_interval{100};
};

// Reads [broker] from `doc` into `out_`; `enabled_` says whether the section
// is there at all. Relative paths are taken relative to `base`.
Status parse_broker_section(const config::TomlDocument& doc, const std::filesystem::path& base,
                            BrokerConfig& out_, bool& enabled_);

// Sets the broker URL (from the command line), checking it.
Status set_broker_url(BrokerConfig& config, std::string url);

}  // namespace armored::cloud
