// `armored audit`: find the transport pitfalls (plaintext, disabled
// verification, hard-coded credentials, executed input) in other people's
// endpoints, source trees, firmware images and packet captures.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "audit/allowlist.h"
#include "audit/code_scan.h"
#include "audit/fleet_audit.h"
#include "audit/pcap_audit.h"
#include "audit/report.h"
#include "audit/secrets_scan.h"
#include "audit/tls_probe.h"
#include "cli/command.h"

namespace {

using armored::audit::Report;
using armored::audit::Severity;

struct CommonOptions {
  std::string fail_on = "medium";
  std::string allowlist;
  bool sarif = false;
};

void add_common(CLI::App* cmd, CommonOptions& o, bool with_sarif) {
  cmd->add_option("--fail-on", o.fail_on,
                  "Exit 1 when a finding is at or above: info, low, medium, high, critical, none")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical", "none"}))
      ->capture_default_str();
  cmd->add_option("--allowlist", o.allowlist,
                  "File of reviewed findings to suppress (lines: RULE PATH-GLOB [LINE])");
  if (with_sarif) cmd->add_flag("--sarif", o.sarif, "Print SARIF 2.1.0 on stdout");
}

// Applies the allowlist, prints the report and sets the exit code.
void finish(Report report, const CommonOptions& o, armored::cli::Context& ctx) {
  if (!o.allowlist.empty()) {
    auto list = armored::audit::Allowlist::load(o.allowlist);
    if (!list) throw armored::cli::Failure(list.error());
    report.suppressed = list->filter(report.findings);
  }
  if (o.sarif) {
    std::cout << armored::audit::render_sarif(report).dump(2) << "\n";
  } else if (ctx.json) {
    std::cout << armored::audit::render_json(report).dump(2) << "\n";
  } else {
    std::cout << armored::audit::render_text(report);
  }
  if (o.fail_on != "none") {
    auto threshold = armored::audit::parse_severity(o.fail_on).value_or(Severity::kMedium);
    if (armored::audit::any_at_or_above(report.findings, threshold)) ctx.exit_code = 1;
  }
}

std::vector<std::filesystem::path> existing_paths(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) throw armored::cli::UsageError("no such file or directory: " + p);
    out.emplace_back(p);
  }
  return out;
}

}  // namespace

namespace armored::cli {

void add_audit(CLI::App& app, Context& ctx) {
  auto* audit = app.add_subcommand(
      "audit", "Find transport-security pitfalls in endpoints, code, firmware and captures");
  audit->require_subcommand(1);
  audit->fallthrough();

  {
    auto* cmd = audit->add_subcommand(
        "secrets", "Hard-coded credentials and keys in source trees and binary images");
    auto opt = std::make_shared<CommonOptions>();
    auto paths = std::make_shared<std::vector<std::string>>();
    auto max_mib = std::make_shared<std::uint64_t>(64);
    cmd->add_option("PATH", *paths, "Files or directories to scan")->required();
    cmd->add_option("--max-file-mib", *max_mib, "Scan at most this many MiB of each file")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    add_common(cmd, *opt, true);
    cmd->callback([&ctx, opt, paths, max_mib] {
      armored::audit::SecretsOptions so;
      so.max_file_bytes = *max_mib << 20;
      finish(armored::audit::scan_secrets(existing_paths(*paths), so), *opt, ctx);
    });
  }
  {
    auto* cmd = audit->add_subcommand(
        "code", "Disabled TLS verification, plaintext MQTT/HTTP and executed input in source");
    auto opt = std::make_shared<CommonOptions>();
    auto paths = std::make_shared<std::vector<std::string>>();
    cmd->add_option("PATH", *paths, "Files or directories to scan")->required();
    add_common(cmd, *opt, true);
    cmd->callback([&ctx, opt, paths] {
      finish(armored::audit::scan_code(existing_paths(*paths), {}), *opt, ctx);
    });
  }
  {
    auto* cmd = audit->add_subcommand(
        "pcap", "Plaintext credentials, MQTT payloads and weak TLS handshakes in a capture");
    auto opt = std::make_shared<CommonOptions>();
    auto file = std::make_shared<std::string>();
    cmd->add_option("FILE", *file, "pcap or pcapng capture")->required();
    add_common(cmd, *opt, false);
    cmd->callback([&ctx, opt, file] {
      auto report = armored::audit::audit_pcap(*file, {});
      if (!report) throw armored::cli::Failure(report.error());
      finish(std::move(*report), *opt, ctx);
    });
  }
  {
    auto* cmd = audit->add_subcommand(
        "fleet", "Shared, expiring, weak and revoked-but-connected certificates of a fleet PKI");
    auto opt = std::make_shared<CommonOptions>();
    auto fo = std::make_shared<armored::audit::FleetOptions>();
    auto pki = std::make_shared<std::string>();
    auto db = std::make_shared<std::string>();
    cmd->add_option("--pki", *pki, "PKI directory made by armored pki")->required();
    cmd->add_option("--db", *db, "The cloud's SQLite store (its audit trail records connections)");
    cmd->add_option("--postgres", fo->postgres_conninfo, "The cloud's PostgreSQL store (libpq conninfo)");
    cmd->add_option("--postgres-schema", fo->postgres_schema, "Schema of the PostgreSQL store")
        ->capture_default_str();
    cmd->add_option("--expiry-days", fo->checks.expiry_days, "Report certificates expiring within this many days")
        ->check(CLI::Range(0, 36500))
        ->capture_default_str();
    add_common(cmd, *opt, true);
    cmd->callback([&ctx, opt, fo, pki, db] {
      if (!db->empty() && !fo->postgres_conninfo.empty()) {
        throw armored::cli::UsageError("--db and --postgres are alternatives; give one");
      }
      std::error_code ec;
      if (!std::filesystem::is_directory(*pki, ec)) throw armored::cli::UsageError("no such directory: " + *pki);
      if (!db->empty() && !std::filesystem::is_regular_file(*db, ec)) {
        throw armored::cli::UsageError("no such database file: " + *db);
      }
      fo->pki_dir = *pki;
      fo->sqlite_path = *db;
      fo->checks.now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      auto report = armored::audit::audit_fleet(*fo);
      if (!report) throw armored::cli::Failure(report.error());
      finish(std::move(*report), *opt, ctx);
    });
  }
  {
    auto* cmd = audit->add_subcommand(
        "tls", "Probe a TLS endpoint: versions, suites, certificate chain, client auth, resumption");
    auto opt = std::make_shared<CommonOptions>();
    auto probe = std::make_shared<armored::audit::TlsProbeOptions>();
    auto target = std::make_shared<std::string>();
    cmd->add_option("HOST:PORT", *target, "Endpoint to probe (the only host contacted)")->required();
    cmd->add_option("--sni", probe->sni, "Server name to send and to match the certificate against");
    cmd->add_option("--ca", probe->ca_file, "CA certificates (PEM) the chain must lead to");
    cmd->add_option("--client-cert", probe->client_cert, "Client certificate (PEM)");
    cmd->add_option("--client-key", probe->client_key, "Client private key (PEM)");
    cmd->add_option("--client-chain", probe->client_chain,
                    "Intermediate CA certificates (PEM) sent after the client certificate");
    cmd->add_flag("--mqtt", probe->mqtt, "Also try a plaintext MQTT CONNECT on the same host");
    cmd->add_option("--mqtt-port", probe->mqtt_port, "Port for --mqtt")->capture_default_str();
    cmd->add_option("--timeout-ms", probe->timeout_ms, "Timeout of every network step")
        ->check(CLI::Range(100, 120000))
        ->capture_default_str();
    add_common(cmd, *opt, false);
    cmd->callback([&ctx, opt, probe, target] {
      auto colon = target->rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == target->size()) {
        throw armored::cli::UsageError("expected HOST:PORT, got '" + *target + "'");
      }
      probe->host = target->substr(0, colon);
      if (probe->host.size() > 2 && probe->host.front() == '[' && probe->host.back() == ']') {
        probe->host = probe->host.substr(1, probe->host.size() - 2);
      }
      try {
        int port = std::stoi(target->substr(colon + 1));
        if (port < 1 || port > 65535) throw std::out_of_range("port");
        probe->port = static_cast<std::uint16_t>(port);
      } catch (const std::exception&) {
        throw armored::cli::UsageError("bad port in '" + *target + "'");
      }
      if (probe->client_cert.empty() != probe->client_key.empty()) {
        throw armored::cli::UsageError("--client-cert and --client-key go together");
      }
      if (!probe->client_chain.empty() && probe->client_cert.empty()) {
        throw armored::cli::UsageError("--client-chain needs --client-cert");
      }
      for (const auto* f : {&probe->ca_file, &probe->client_cert, &probe->client_key, &probe->client_chain}) {
        std::error_code ec;
        if (!f->empty() && !std::filesystem::is_regular_file(*f, ec)) {
          throw armored::cli::UsageError("no such file: " + *f);
        }
      }
      auto report = armored::audit::audit_tls(*probe);
      if (!report) throw armored::cli::OperationFailed(report.error());
      finish(std::move(*report), *opt, ctx);
    });
  }
}

}  // namespace armored::cli
