#include "audit/pcap_audit.h"

#include <pcap/pcap.h>

#include <memory>

namespace armored::audit {

namespace {
struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
}  // namespace

Expected<Report> audit_pcap(const std::filesystem::path& file, const PcapLimits& limits) {
  char err[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, PcapCloser> pcap(pcap_open_offline(file.c_str(), err));
  if (!pcap) return fail("cannot read capture " + file.string() + ": " + err);
  int dlt = pcap_datalink(pcap.get());
  PcapAnalyzer analyzer(limits);
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  std::uint64_t number = 0;
  int rc = 0;
  while ((rc = pcap_next_ex(pcap.get(), &hdr, &data)) == 1) {
    analyzer.on_frame(dlt, ByteSpan(data, hdr->caplen), ++number);
  }
  std::string read_error = rc == PCAP_ERROR ? pcap_geterr(pcap.get()) : "";
  analyzer.finish();

  Report report;
  report.command = "pcap";
  report.targets.push_back(file.string());
  report.rules.assign(pcap_rules().begin(), pcap_rules().end());
  report.findings = analyzer.findings();
  for (auto& f : report.findings) f.where.path = file.string();
  const char* link_name = pcap_datalink_val_to_name(dlt);
  report.summary.push_back(std::to_string(number) + " frames, link type " +
                           (link_name ? link_name : std::to_string(dlt)) + ", " +
                           std::to_string(analyzer.flows().size()) + " TCP flows");
  nlohmann::json flows = nlohmann::json::array();
  for (const auto& f : analyzer.flows()) {
    std::string line = f.client + " -> " + f.server + ": " + f.protocol;
    if (!f.tls_version.empty()) line += " (" + f.tls_version + ")";
    report.summary.push_back("flow " + line);
    flows.push_back({{"client", f.client},
                     {"server", f.server},
                     {"protocol", f.protocol},
                     {"tls_version", f.tls_version},
                     {"packets", f.packets},
                     {"payload_bytes", f.payload_bytes}});
  }
  if (!read_error.empty()) report.summary.push_back("capture ends early: " + read_error);
  report.details = {{"link_type", dlt},
                    {"frames", number},
                    {"flows", flows},
                    {"counters", analyzer.counters()},
                    {"read_error", read_error}};
  sort_findings(report);
  return report;
}

}  // namespace armored::audit
