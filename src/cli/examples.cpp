#include "cli/examples.h"

#include "cli/app_tree.h"

namespace armored::cli {

namespace {

struct Example {
  const char* path;  // "" for `armored` itself, else the subcommand words
  const char* lines;
};

// Device ids follow `armored pki fleet --prefix wearable`: wearable-0001..
constexpr Example kExamples[] = {
    {"", "armored quickstart demo    # a working setup in demo/ and the commands that run it\n"
         "  armored cloud --config cloud.toml\n  armored <command> --help"},
    {"quickstart", "armored quickstart demo    # then run the commands it prints, from demo/"},
    {"pki", "armored pki init --dir pki --name \"Acme Fleet CA\""},
    {"pki init", "armored pki init --dir pki --name \"Acme Fleet CA\""},
    {"pki issue", "armored pki issue cloud --id cloud --dns cloud.example.net --dir pki\n"
                  "  armored pki issue gateway --id gw1 --dir pki"},
    {"pki fleet", "armored pki fleet --count 100 --prefix wearable --dir pki"},
    {"pki revoke", "armored pki revoke --id gw1 --dir pki"},
    {"pki crl", "armored pki crl --dir pki"},
    {"pki list", "armored pki list --dir pki"},
    {"pki verify", "armored pki verify --dir pki pki/gateway/gw1.crt"},
    {"enroll", "armored enroll --pki pki --e3 e3"},
    {"gateway", "armored gateway --config gateway.toml"},
    {"command", "armored command send --config cloud.toml --device wearable-0001 --wait 10 set_interval seconds=60"},
    {"command send", "armored command send --config cloud.toml --device wearable-0001 --wait 10 set_interval seconds=60"},
    {"command status", "armored command status --config cloud.toml --device wearable-0001"},
    {"e3", "armored --json e3 inspect - < envelope.hex"},
    {"e3 inspect", "armored --json e3 inspect - < envelope.hex    # e.g. from armored fleet --save-envelope envelope.hex"},
    {"energy", "armored energy --profile nrf52840-ble --interval 30s\n"
               "  armored energy --profile nrf52840-ble --crypto-costs measured-cm4"},
    {"report", "armored report gaps --config cloud.toml"},
    {"audit", "armored audit tls cloud.example.net:8883\n  armored audit fleet --pki pki --db armored.db"},
    {"audit secrets", "armored audit secrets src firmware.bin"},
    {"audit code", "armored audit code src"},
    {"audit pcap", "armored audit pcap capture.pcapng"},
    {"audit fleet", "armored audit fleet --pki pki --db armored.db"},
    {"audit tls", "armored audit tls cloud.example.net:8883"},
    {"version", "armored --json version"},
};

}  // namespace

std::vector<std::string> add_examples(CLI::App& root) {
  std::vector<std::string> missing;
  for (const Example& e : kExamples) {
    CLI::App* app = find_command(root, e.path);
    if (app == nullptr) {
      missing.emplace_back(e.path);
      continue;
    }
    std::string footer = app->get_footer();
    if (footer.find("Example") != std::string::npos) continue;
    const bool several = std::string(e.lines).find('\n') != std::string::npos;
    footer += std::string(footer.empty() ? "" : "\n\n") + (several ? "Examples:\n  " : "Example:\n  ") + e.lines;
    app->footer(footer);
  }
  return missing;
}

}  // namespace armored::cli
