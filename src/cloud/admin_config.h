#pragma once
// The [admin] and [commands] sections of cloud.toml: the local admin socket
// and how the cloud sends device commands (config/cloud.toml documents each).

#include <chrono>
#include <filesystem>

#include "cloud/admin_protocol.h"
#include "common/result.h"

namespace armored::config {
class TomlDocument;
}

namespace armored::cloud {

struct AdminConfig {
  // [admin]
  bool enabled = true;
  std::filesystem::path socket;  // default: cloud.sock next to the SQLite database
  AdminLimits limits;
  std::chrono::milliseconds idle_timeout{10000};
  // [commands]
  std::filesystem::path schema;  // empty: the schema compiled into the binary (config/commands.toml)
  std::chrono::seconds ack_timeout{120};  // sent, unanswered this long -> expired
  std::size_t max_outstanding = 1024;     // commands awaiting an answer, all devices
};

// Reads [admin] and [commands]; `default_dir` holds the socket by default
// and `base` is the config file's directory.
Status parse_admin_config(const config::TomlDocument& doc, const std::filesystem::path& base,
                          const std::filesystem::path& default_dir, AdminConfig& out_);

}  // namespace armored::cloud
