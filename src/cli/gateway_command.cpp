// `armored gateway`: device ingress over UDP, a durable spool, and
// forwarding over mutual TLS 1.3 + MQTT to the cloud. It holds no E3 key.

#include <iostream>

#include "cli/command.h"
#include "gateway/config.h"
#include "gateway/gateway.h"

namespace armored::cli {

void add_gateway(CLI::App& app, Context& ctx) {
  auto config_path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("gateway", "Run a gateway: UDP device ingress, durable spool, forwarding over mutual TLS 1.3");
  cmd->footer("Run a gateway: devices send sealed E3 messages by UDP (default port 5683); the gateway\nspools them durably, answers each device once its message is safe, and forwards them\nin batches over mutual TLS 1.3 + MQTT QoS 1. A message leaves the spool only when the\ncloud acknowledged it. The gateway cannot read, forge or replay what it forwards.\nStops on SIGTERM or SIGINT. See config/gateway.toml for every option.");
  cmd->add_option("--config", *config_path, "Configuration file (TOML)")->required();
  cmd->callback([config_path, &ctx] {
    auto config = gateway::load_gateway_config(*config_path);
    if (!config) throw Failure(config.error());
    SystemClock clock;
    auto gw = gateway::Gateway::create(*config, clock);
    if (!gw) throw Failure(gw.error());
    auto port = (*gw)->bind();
    if (!port) throw OperationFailed(port.error());
    std::cout << "armored gateway " << config->id << " listening on udp " << config->udp_address << ":" << *port
              << ", forwarding to " << config->cloud_host << ":" << config->cloud_port << std::endl;
    if (auto mp = (*gw)->metrics_port()) {
      const std::string& a = config->metrics.address;
      std::cout << "armored gateway metrics on http://" << (a.find(':') != std::string::npos ? "[" + a + "]" : a)
                << ":" << *mp << "/metrics" << std::endl;
    }
    ctx.exit_code = (*gw)->run();
    auto s = (*gw)->status();
    std::cout << "armored gateway stopped: " << s.acknowledged << " messages acknowledged by the cloud, "
              << s.pending << " still spooled, " << s.redelivered << " forwarded again with DUP; "
              << s.downlink_relayed << " commands relayed to devices, " << s.downlink_unknown << " for unknown devices";
    if (!s.quarantined.empty()) {
      std::cout << "; spool damage quarantined at start to";
      for (const auto& f : s.quarantined) std::cout << " " << f;
      std::cout << " (" << s.lost_record_ids << " record ids lost with it)";
    }
    if (s.ack_rebuilt) std::cout << "; spool ack cursor rebuilt at start";
    std::cout << gateway::format_mirror_repairs(s);
    std::cout << std::endl;
  });
}

}  // namespace armored::cli
