// `armored cloud`: the TLS 1.3 + MQTT endpoint that opens, checks and stores
// sealed readings.

#include <iostream>

#include "cli/command.h"
#include "cloud/config.h"
#include "cloud/ingest_worker.h"
#include "cloud/server.h"

namespace armored::cli {

void add_cloud(CLI::App& app, Context& ctx) {
  auto config_path = std::make_shared<std::string>();
  auto broker_url = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("cloud", "Run the cloud endpoint: mutual TLS 1.3 + MQTT (default port 8883)");
  cmd->footer("Run the cloud endpoint: mutual TLS 1.3 + MQTT 3.1.1 on one port (default 8883).\nGateways publish sealed readings to armored/v1/<gateway-id>/up; each is opened,\nvalidated, deduplicated and stored before the PUBLISH is acknowledged. Rejected\nenvelopes, failed handshakes and ACL denials go to the audit trail.\nWith a [broker] section (or --broker mqtts://host:port) it also subscribes to\narmored/v1/+/up on a standard MQTT broker (Mosquitto, AWS IoT Core) and ingests\nfrom there the same way.\nWith [cluster] role = \"front\" or \"worker\" it is one role of a scaled cloud on NATS\nJetStream and PostgreSQL (docs/scale-out.md).\nStops cleanly on SIGTERM or SIGINT. See config/cloud.toml for every option.\n\nExamples:\n  armored cloud --config cloud.toml\n  armored cloud --config config/cluster/worker.toml   # an ingest worker of a scaled cloud\n  armored cloud --config cloud.toml --check    # integrity of the database, then exit");
  cmd->add_option("--config", *config_path, "Configuration file (TOML)")->required();
  auto check = std::make_shared<bool>(false);
  cmd->add_flag("--check", *check,
                "Check the database's integrity (SQLite: PRAGMA quick_check) and exit: 0 ok, 1 damaged");
  cmd->add_option("--broker", *broker_url,
                  "Also ingest from this MQTT broker: mqtts://host:port (overrides [broker] url; "
                  "credentials come from [broker])");
  cmd->callback([config_path, broker_url, check, &ctx] {
    auto config = cloud::load_cloud_config(*config_path);
    if (!config) throw Failure(config.error());
    if (*check) {
      auto r = cloud::check_database(*config);
      if (!r) throw OperationFailed(r.error());
      std::cout << (r->ok ? "database ok" : "DATABASE DAMAGED") << " (" << config->backend << ", "
                << (r->bytes >> 20) << " MB checked in " << r->seconds << " s)";
      if (!r->ok) std::cout << ":\n" << r->report << "\nrecorded in the audit trail as 'database check failed'";
      std::cout << std::endl;
      ctx.exit_code = r->ok ? 0 : 1;
      return;
    }
    if (!broker_url->empty()) {
      if (!config->broker_enabled) {
        throw cli::UsageError("--broker needs a [broker] section in " + *config_path +
                              " with the CA, client certificate and key to connect with");
      }
      if (auto b = cloud::set_broker_url(config->broker, *broker_url); !b) throw Failure(b.error());
    }
    SystemClock clock;
    if (config->cluster.role == cloud::CloudRole::kWorker) {
      auto worker = cloud::IngestWorker::create(*config, clock);
      if (!worker) throw Failure(worker.error());
      std::cout << "armored cloud worker consuming " << config->cluster.nats.stream << std::endl;
      if (auto port = (*worker)->metrics_port()) {
        std::cout << "armored cloud worker metrics on http://" << config->metrics.address << ":" << *port << "/metrics"
                  << std::endl;
      }
      ctx.exit_code = (*worker)->run();
      const auto s = (*worker)->status();
      std::cout << "armored cloud worker stopped: " << s.messages << " messages (" << s.redeliveries
                << " redelivered), " << s.readings_stored << " readings stored, " << s.duplicates
                << " duplicates dropped, " << s.rejected << " rejected, " << s.epoch_waits
                << " waited for an announcement" << std::endl;
      return;
    }
    auto server = cloud::CloudServer::create(*config, clock);
    if (!server) throw Failure(server.error());
    auto port = (*server)->listen();
    if (!port) throw OperationFailed(port.error());
    // Tests and scripts read this line to find the port (the config may say 0).
    std::cout << "armored cloud listening on " << config->address << ":" << *port << std::endl;
    for (const auto& line : (*server)->operator_view()) std::cout << "armored cloud " << line << std::endl;
    ctx.exit_code = (*server)->run();
    auto s = (*server)->status();
    std::cout << "armored cloud stopped: " << s.readings_stored << " readings stored, " << s.duplicates
              << " duplicates dropped, " << s.rejected << " rejected; handshakes " << s.handshakes_full
              << " full, " << s.handshakes_resumed << " resumed, " << s.handshakes_zero_rtt << " 0-RTT, "
              << s.handshakes_failed << " failed";
    if (s.broker_enabled) std::cout << "; broker source: " << s.broker_messages << " messages";
    std::cout << "; " << s.redelivered << " redelivered; " << s.late_readings
              << " opened late (left of the replay window; storage decided)" << std::endl;
  });
}

}  // namespace armored::cli
