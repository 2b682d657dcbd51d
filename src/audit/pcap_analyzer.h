#pragma once
// The capture analysis of `audit pcap`, without I/O: frames in (with their
// link type), findings and flow summaries out. TCP is reassembled per
// direction with bounded memory (buffers, out-of-order segments and the flow
// table are all capped; what does not fit is counted, never grown).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/finding.h"
#include "audit/pcap_packet.h"

namespace armored::audit {

// Memory is bounded by max_flows x 2 directions x (stream buffer + TLS
// handshake buffer, each at most max_stream_buffer) plus the capture-wide
// out-of-order budget: about 272 MiB at the defaults, far less in practice
// because buffers only hold partial messages.
struct PcapLimits {
  std::size_t max_flows = 4096;               // oldest flow evicted beyond this
  std::size_t max_stream_buffer = 16u << 10;  // bytes buffered per direction for parsing
  std::size_t max_out_of_order_bytes = 64u << 10;  // per direction
  std::size_t max_out_of_order_segments = 64;      // per direction
  std::size_t max_total_out_of_order_bytes = 16u << 20;  // whole capture
  std::size_t max_flow_summaries = 1000;
};

struct FlowSummary {
  std::string client;
  std::string server;
  std::string protocol;  // "mqtt", "http", "tls", "other", "empty"
  std::string tls_version;
  std::uint64_t packets = 0;
  std::uint64_t payload_bytes = 0;
};

std::span<const RuleInfo> pcap_rules();

class PcapAnalyzer {
 public:
  explicit PcapAnalyzer(PcapLimits limits = {});
  ~PcapAnalyzer();
  PcapAnalyzer(const PcapAnalyzer&) = delete;
  PcapAnalyzer& operator=(const PcapAnalyzer&) = delete;

  // Feeds one captured frame; `number` (1-based) is quoted in findings.
  void on_frame(int dlt, ByteSpan frame, std::uint64_t number);
  // Ends the capture: flushes per-flow findings. Call once, after the last frame.
  void finish();

  const std::vector<Finding>& findings() const { return findings_; }
  const std::vector<FlowSummary>& flows() const { return summaries_; }
  nlohmann::json counters() const;

  struct Flow;

 private:
  Flow& flow_for(const TcpSegment& seg, std::uint64_t number);
  void close_flow(Flow& f);

  PcapLimits limits_;
  std::map<std::pair<Endpoint, Endpoint>, std::unique_ptr<Flow>> flows_;
  std::vector<Finding> findings_;
  std::vector<FlowSummary> summaries_;
  std::map<std::string, std::uint64_t> counters_;
  std::size_t held_bytes_ = 0;  // out-of-order bytes held across all flows
};

}  // namespace armored::audit
