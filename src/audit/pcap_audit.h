#pragma once
// `armored audit pcap FILE`: reads a pcap or pcapng capture with libpcap and
// reports plaintext credentials and payloads and weak TLS handshakes.

#include <filesystem>

#include "audit/pcap_analyzer.h"
#include "audit/report.h"
#include "common/result.h"

namespace armored::audit {

// Fails (with libpcap's reason) only when the file cannot be read as a
// capture at all; undecodable frames are counted in the report.
Expected<Report> audit_pcap(const std::filesystem::path& file, const PcapLimits& limits);

}  // namespace armored::audit
