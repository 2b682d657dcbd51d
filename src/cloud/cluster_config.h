#pragma once
// The scaled cloud's roles (docs/scale-out.md): [cluster] in the cloud's
// config. Absent, or role = "single", the cloud is one process that does
// everything (the default and the demo). role = "front" terminates TLS and
// MQTT and hands each uplink PUBLISH to NATS JetStream; role = "worker"
// takes them from JetStream, opens them and stores them in PostgreSQL.

#include <filesystem>

#include "common/result.h"
#include "jetstream/jetstream.h"

namespace armored::config {
class TomlDocument;
}

namespace armored::cloud {

enum class CloudRole : std::uint8_t { kSingle, kFront, kWorker };
const char* to_string(CloudRole role);

struct ClusterConfig {
  CloudRole role = CloudRole::kSingle;
  jetstream::Options nats;
  // Workers: the E3 receiver state they share in PostgreSQL is sealed
  // (AES-256-GCM) under this key, so the database alone does not hold the
  // epoch keys. Every worker needs the same file (mode 0600); the first to
  // start creates it when missing. Default "e3-state.key" next to the config.
  std::filesystem::path state_key_file;
  // Workers: JetStream messages taken per fetch and stored in one transaction.
  int fetch_batch = 128;
};

// Reads [cluster]; `base` resolves relative paths.
Status parse_cluster_section(const config::TomlDocument& doc, const std::filesystem::path& base, ClusterConfig& out_);

}  // namespace armored::cloud
