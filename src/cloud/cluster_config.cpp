#include "cloud/cluster_config.h"

#include "config/toml_reader.h"

namespace armored::cloud {

const char* to_string(CloudRole role) {
  switch (role) {
    case CloudRole::kSingle: return "single";
    case CloudRole::kFront: return "front";
    case CloudRole::kWorker: return "worker";
  }
  return "?";
}

Status parse_cluster_section(const config::TomlDocument& doc, const std::filesystem::path& base, ClusterConfig& out_) {
  auto c = doc.section("cluster");
  std::string role = "single", key_file = "e3-state.key";
  auto& n = out_.nats;
  std::int64_t replicas = n.replicas, dup = n.duplicate_window.count(), ack_wait = n.ack_wait.count(),
               max_mb = n.max_bytes >> 20, timeout = n.request_timeout.count(), batch = out_.fetch_batch;
  ARMORED_TRY(c.get_optional_choice("role", role, {"single", "front", "worker"}));
  ARMORED_TRY(c.get_optional("nats", n.servers));
  ARMORED_TRY(c.get_optional("name", n.name));
  ARMORED_TRY(c.get_optional("stream", n.stream));
  ARMORED_TRY(c.get_optional("subject", n.subject));
  ARMORED_TRY(c.get_optional("consumer", n.consumer));
  ARMORED_TRY(c.get_optional("replicas", replicas, 1, 5));
  ARMORED_TRY(c.get_optional("duplicate_window_s", dup, 1, 24 * 3600));
  ARMORED_TRY(c.get_optional("ack_wait_s", ack_wait, 1, 3600));
  ARMORED_TRY(c.get_optional("max_stream_mb", max_mb, 1, std::int64_t{1} << 30));
  ARMORED_TRY(c.get_optional("request_timeout_ms", timeout, 100, 60000));
  ARMORED_TRY(c.get_optional("fetch_batch", batch, 1, 4096));
  ARMORED_TRY(c.get_optional("state_key_file", key_file));
  ARMORED_TRY(c.get_optional("nats_ca", n.ca_file));
  ARMORED_TRY(c.get_optional("nats_certificate", n.cert_file));
  ARMORED_TRY(c.get_optional("nats_key", n.key_file));
  ARMORED_TRY(c.reject_unknown_keys());
  out_.role = role == "front" ? CloudRole::kFront : role == "worker" ? CloudRole::kWorker : CloudRole::kSingle;
  n.replicas = static_cast<int>(replicas);
  n.duplicate_window = std::chrono::seconds(dup);
  n.ack_wait = std::chrono::seconds(ack_wait);
  n.max_bytes = max_mb << 20;
  n.request_timeout = std::chrono::milliseconds(timeout);
  out_.fetch_batch = static_cast<int>(batch);
  out_.state_key_file = config::resolve_path(base, key_file);
  for (auto* f : {&n.ca_file, &n.cert_file, &n.key_file}) {
    if (!f->empty()) *f = config::resolve_path(base, *f).string();
  }
  if (out_.role == CloudRole::kSingle) return {};
  if (auto v = jetstream::validate(n); !v) {
    return fail(doc.source() + ": [cluster] " + v.error().message);
  }
  return {};
}

}  // namespace armored::cloud
