#include "audit/pcap_analyzer.h"

#include <algorithm>

#include "audit/pcap_protocols.h"

namespace armored::audit {

namespace {

constexpr RuleInfo kRules[] = {
    {"pcap-mqtt-credentials", Severity::kCritical, "MQTT CONNECT with username/password in clear",
     "Anyone on the path (Wi-Fi, switch port, ISP, compromised gateway) reads the broker "
     "credentials and can log in as the device.",
     "Run MQTT over TLS (port 8883) with a verified server certificate; prefer client "
     "certificates to passwords, and rotate the exposed password."},
    {"pcap-mqtt-plaintext", Severity::kHigh, "MQTT session in clear",
     "Plaintext MQTT exposes topics, client ids and every message, and lets an attacker "
     "inject or alter commands.",
     "Use MQTT over TLS (port 8883) with certificate verification and disable port 1883."},
    {"pcap-mqtt-publish-plaintext", Severity::kHigh, "MQTT PUBLISH payloads in clear",
     "Telemetry and commands are readable and modifiable in transit.",
     "Use MQTT over TLS; for data that crosses untrusted gateways also seal payloads end to "
     "end (E3)."},
    {"pcap-http-basic-auth", Severity::kCritical, "HTTP Basic credentials in clear",
     "Basic auth is only base64: the captured header is the user's password.",
     "Use HTTPS with certificate verification and rotate the exposed password."},
    {"pcap-http-bearer-token", Severity::kCritical, "HTTP bearer token in clear",
     "A bearer token works for whoever holds it; captured in clear it can be replayed.",
     "Use HTTPS and revoke the exposed token."},
    {"pcap-tls-old-version", Severity::kHigh, "TLS ClientHello offering at most a version below 1.2",
     "TLS 1.0/1.1 and SSL 3 lack AEAD suites and suffer padding-oracle and downgrade attacks.",
     "Update the client's TLS library and set its minimum version to TLS 1.2 (1.3 where "
     "possible)."},
    {"pcap-tls-downgrade", Severity::kHigh, "TLS connection fell back from 1.3",
     "The client offered TLS 1.3 but the server chose an older version: either the server "
     "is outdated or something in the path forced a downgrade.",
     "Enable TLS 1.3 on the server and look for middleboxes that terminate or rewrite TLS."},
};

const RuleInfo& rule(std::string_view id) {
  for (const auto& r : kRules) {
    if (r.id == id) return r;
  }
  return kRules[0];
}

enum class Mode : std::uint8_t { kUnknown, kMqtt, kHttp, kTls, kOther, kDone };

struct Sink {
  std::vector<Finding>& findings;
  std::map<std::string, std::uint64_t>& counters;
  const PcapLimits& limits;
  std::size_t& held_bytes;  // out-of-order bytes held by every flow together
};

}  // namespace

struct PcapAnalyzer::Flow {
  struct Segment {
    std::uint32_t seq;
    Bytes data;
  };
  struct Direction {
    bool have_next = false;
    std::uint32_t next_seq = 0;
    std::vector<Segment> out_of_order;
    std::size_t out_of_order_bytes = 0;
    Bytes buf;
    std::size_t skip = 0;  // bytes to drop (bodies, oversized packets)
    Mode mode = Mode::kUnknown;
    Bytes handshake;       // TLS handshake bytes until the first hello
  };

  Endpoint client, server;
  Direction dir[2];
  std::string protocol = "empty";
  std::uint8_t mqtt_level = 4;
  std::optional<ClientHelloInfo> client_hello;
  std::optional<ServerHelloInfo> server_hello;
  std::uint64_t publishes = 0, publish_bytes = 0;
  std::string first_topic;
  std::uint64_t first_publish_frame = 0;
  bool connect_reported = false;
  std::uint64_t packets = 0, payload_bytes = 0, last_frame = 0;
  std::uint64_t frame = 0;  // frame being processed

  std::string endpoint() const { return client.to_string() + " -> " + server.to_string(); }

  void report(Sink& s, std::string_view id, std::string evidence, std::string message) {
    Location where;
    where.endpoint = endpoint();
    s.findings.push_back(make_finding(rule(id), where, std::move(evidence),
                                      std::move(message) + " (frame " + std::to_string(frame) + ")"));
  }

  void deliver(Sink& s, int d, ByteSpan bytes) {
    Direction& D = dir[d];
    if (D.mode == Mode::kOther || D.mode == Mode::kDone) return;
    if (D.skip > 0) {
      std::size_t n = std::min(D.skip, bytes.size());
      D.skip -= n;
      bytes = bytes.subspan(n);
    }
    if (bytes.empty()) return;
    std::size_t room = s.limits.max_stream_buffer - std::min(D.buf.size(), s.limits.max_stream_buffer);
    if (bytes.size() > room) {
      // Keep what fits; parsers below handle the one oversized message by
      // skipping its remainder, so the parse position stays in sync.
      D.skip += bytes.size() - room;
      bytes = bytes.first(room);
      s.counters["stream_buffer_overflows"]++;
    }
    D.buf.insert(D.buf.end(), bytes.begin(), bytes.end());
    parse(s, d);
  }

  void classify(int d) {
    Direction& D = dir[d];
    ByteSpan b(D.buf);
    if (b.empty()) return;
    if (tls_record_header(b).status != FrameStatus::kInvalid && b[0] == kTlsHandshake) {
      D.mode = Mode::kTls;
    } else if (d == 0 && looks_like_http_request(b)) {
      D.mode = Mode::kHttp;
    } else if (d == 0 && b[0] == 0x10) {
      D.mode = Mode::kMqtt;  // confirmed (or rejected) by the CONNECT parse
    } else if (d == 1 && protocol == "mqtt") {
      D.mode = Mode::kMqtt;
    } else if (b.size() >= 8) {
      D.mode = Mode::kOther;
      if (protocol == "empty") protocol = "other";
    }
  }

  void consume(Direction& D, std::size_t n) {
    if (n >= D.buf.size()) {
      D.skip += n - D.buf.size();
      D.buf.clear();
    } else {
      D.buf.erase(D.buf.begin(), D.buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }

  void parse(Sink& s, int d) {
    Direction& D = dir[d];
    for (int guard = 0; guard < 100000 && !D.buf.empty(); ++guard) {
      if (D.mode == Mode::kUnknown) {
        classify(d);
        if (D.mode == Mode::kUnknown) return;
      }
      bool progressed = false;
      switch (D.mode) {
        case Mode::kMqtt: progressed = parse_mqtt(s, d); break;
        case Mode::kHttp: progressed = parse_http(s, d); break;
        case Mode::kTls: progressed = parse_tls(s, d); break;
        default: D.buf.clear(); return;
      }
      if (!progressed) return;
    }
  }

  bool parse_mqtt(Sink& s, int d) {
    Direction& D = dir[d];
    auto frame_hdr = mqtt_frame(D.buf);
    if (frame_hdr.status == FrameStatus::kNeedMore) return false;
    if (frame_hdr.status == FrameStatus::kInvalid) {
      D.mode = Mode::kOther;
      return false;
    }
    std::size_t total = frame_hdr.header_len + frame_hdr.remaining_len;
    bool whole = D.buf.size() >= total;
    bool capped = !whole && D.buf.size() >= s.limits.max_stream_buffer;
    if (!whole && !capped) return false;
    ByteSpan packet(D.buf.data(), std::min(D.buf.size(), total));
    if (frame_hdr.type == 1 && d == 0) {
      auto c = parse_mqtt_connect(packet);
      if (!c) {
        s.counters["mqtt_malformed"]++;
        if (protocol != "mqtt") {
          D.mode = Mode::kOther;
          protocol = "other";
          return false;
        }
      } else {
        protocol = "mqtt";
        mqtt_level = c->level;
        s.counters["mqtt_connects"]++;
        std::string id_part = "client id '" + printable(c->client_id, 64) + "', MQTT level " +
                              std::to_string(c->level);
        if (c->username || c->password) {
          std::string ev = id_part;
          if (c->username) ev += ", username " + redact(*c->username);
          if (c->password) ev += ", password " + redact(*c->password);
          report(s, "pcap-mqtt-credentials", ev, "MQTT CONNECT carries credentials in clear");
        } else {
          report(s, "pcap-mqtt-plaintext", id_part, "MQTT CONNECT in clear (no TLS)");
        }
      }
    } else if (frame_hdr.type == 3) {
      if (auto p = parse_mqtt_publish(packet, total, mqtt_level)) {
        if (publishes == 0) {
          first_topic = p->topic;
          first_publish_frame = frame;
        }
        publishes++;
        publish_bytes += p->payload_len;
        s.counters["mqtt_publishes"]++;
      } else {
        s.counters["mqtt_malformed"]++;
      }
    }
    consume(D, total);
    return true;
  }

  bool parse_http(Sink& s, int d) {
    Direction& D = dir[d];
    auto text = as_string(D.buf);
    auto end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (D.buf.size() >= s.limits.max_stream_buffer) D.mode = Mode::kOther;  // head too long
      return false;
    }
    auto head = parse_http_request_head(text.substr(0, end + 2));
    if (!head) {
      D.mode = Mode::kOther;
      return false;
    }
    protocol = "http";
    s.counters["http_requests"]++;
    for (const auto& c : head->credentials) {
      std::string where = head->method + " " + printable(head->target, 60) + ", " + c.header + ": ";
      if (c.scheme == "Basic") {
        report(s, "pcap-http-basic-auth",
               where + "Basic user " + redact(c.user) + ", password " + redact(c.secret),
               "HTTP Basic credentials sent without TLS");
      } else if (c.scheme == "Bearer") {
        report(s, "pcap-http-bearer-token", where + "Bearer " + redact(c.secret),
               "HTTP bearer token sent without TLS");
      }
    }
    std::size_t consumed = end + 4;
    if (head->chunked) {
      D.mode = Mode::kDone;  // bodies are not followed further
      D.buf.clear();
      return false;
    }
    consume(D, consumed + head->content_length);
    return true;
  }

  bool parse_tls(Sink& s, int d) {
    Direction& D = dir[d];
    auto h = tls_record_header(D.buf);
    if (h.status == FrameStatus::kNeedMore) return false;
    if (h.status == FrameStatus::kInvalid || h.content_type != kTlsHandshake) {
      D.mode = Mode::kDone;
      D.buf.clear();
      return false;
    }
    if (D.buf.size() < 5 + h.length) return false;
    if (protocol == "empty" || protocol == "other") protocol = "tls";
    D.handshake.insert(D.handshake.end(), D.buf.begin() + 5,
                       D.buf.begin() + 5 + static_cast<std::ptrdiff_t>(h.length));
    consume(D, 5 + h.length);
    if (D.handshake.size() < 4) return true;
    std::size_t len = (static_cast<std::size_t>(D.handshake[1]) << 16) |
                      (static_cast<std::size_t>(D.handshake[2]) << 8) | D.handshake[3];
    if (len > s.limits.max_stream_buffer || D.handshake.size() > s.limits.max_stream_buffer + kTlsMaxRecord) {
      s.counters["tls_malformed"]++;
      D.mode = Mode::kDone;
      return false;
    }
    if (D.handshake.size() < 4 + len) return true;  // hello spans more records
    ByteSpan body = ByteSpan(D.handshake).subspan(4, len);
    std::uint8_t type = D.handshake[0];
    if (type == 1) {
      client_hello = parse_client_hello(body);
      if (!client_hello) {
        s.counters["tls_malformed"]++;
      } else {
        s.counters["tls_client_hellos"]++;
        if (client_hello->max_version() < 0x0303) {
          report(s, "pcap-tls-old-version",
                 "highest version offered " + tls_version_name(client_hello->max_version()) +
                     (client_hello->sni.empty() ? "" : ", SNI " + client_hello->sni),
                 "ClientHello offers nothing newer than " +
                     tls_version_name(client_hello->max_version()));
        }
      }
    } else if (type == 2) {
      server_hello = parse_server_hello(body);
      if (!server_hello) {
        s.counters["tls_malformed"]++;
      } else {
        s.counters["tls_server_hellos"]++;
        if (client_hello && client_hello->offers(0x0304) && server_hello->version() <= 0x0303) {
          report(s, "pcap-tls-downgrade",
                 "client offered TLS 1.3, server chose " + tls_version_name(server_hello->version()),
                 "Server answered a TLS 1.3 offer with " + tls_version_name(server_hello->version()));
        }
      }
    }
    // Everything after the first hello is encrypted or uninteresting here.
    D.mode = Mode::kDone;
    D.buf.clear();
    D.handshake.clear();
    D.handshake.shrink_to_fit();
    return false;
  }

  void drain_out_of_order(Sink& s, int d) {
    Direction& D = dir[d];
    for (bool again = true; again;) {
      again = false;
      for (auto it = D.out_of_order.begin(); it != D.out_of_order.end(); ++it) {
        auto rel = static_cast<std::int32_t>(it->seq - D.next_seq);
        if (rel > 0) continue;
        Segment seg = std::move(*it);
        D.out_of_order.erase(it);
        D.out_of_order_bytes -= seg.data.size();
        s.held_bytes -= seg.data.size();
        std::size_t skip = static_cast<std::size_t>(-static_cast<std::int64_t>(rel));
        if (skip < seg.data.size()) {
          D.next_seq += static_cast<std::uint32_t>(seg.data.size() - skip);
          deliver(s, d, ByteSpan(seg.data).subspan(skip));
        }
        again = true;
        break;
      }
    }
  }

  // Gives up on a hole: stops parsing this direction (its framing is lost).
  void give_up_gap(Sink& s, int d) {
    Direction& D = dir[d];
    s.counters["tcp_gaps"]++;
    s.held_bytes -= D.out_of_order_bytes;
    D.out_of_order.clear();
    D.out_of_order_bytes = 0;
    D.buf.clear();
    if (D.mode != Mode::kDone) D.mode = Mode::kOther;
  }

  void on_segment(Sink& s, const TcpSegment& seg) {
    int d = seg.src == client ? 0 : 1;
    Direction& D = dir[d];
    packets++;
    payload_bytes += seg.payload.size();
    if (seg.flags & kTcpSyn) {
      D.next_seq = seg.seq + 1;
      D.have_next = true;
      if (seg.payload.empty()) return;
    }
    if (seg.payload.empty()) return;
    std::uint32_t seq = (seg.flags & kTcpSyn) ? seg.seq + 1 : seg.seq;
    if (!D.have_next) {
      D.next_seq = seq;  // joined mid-stream
      D.have_next = true;
    }
    auto rel = static_cast<std::int32_t>(seq - D.next_seq);
    if (rel <= 0) {
      std::size_t skip = static_cast<std::size_t>(-static_cast<std::int64_t>(rel));
      if (skip >= seg.payload.size()) {
        s.counters["tcp_retransmissions"]++;
        return;
      }
      D.next_seq += static_cast<std::uint32_t>(seg.payload.size() - skip);
      deliver(s, d, seg.payload.subspan(skip));
      drain_out_of_order(s, d);
      return;
    }
    s.counters["tcp_out_of_order"]++;
    if (D.out_of_order.size() >= s.limits.max_out_of_order_segments ||
        D.out_of_order_bytes + seg.payload.size() > s.limits.max_out_of_order_bytes ||
        s.held_bytes + seg.payload.size() > s.limits.max_total_out_of_order_bytes) {
      give_up_gap(s, d);
      return;
    }
    D.out_of_order.push_back({seq, Bytes(seg.payload.begin(), seg.payload.end())});
    D.out_of_order_bytes += seg.payload.size();
    s.held_bytes += seg.payload.size();
  }

  void finish(Sink& s) {
    for (int d = 0; d < 2; ++d) {
      if (!dir[d].out_of_order.empty()) s.counters["tcp_gaps"]++;
      s.held_bytes -= dir[d].out_of_order_bytes;
      dir[d].out_of_order.clear();
      dir[d].out_of_order_bytes = 0;
    }
    if (publishes > 0) {
      frame = first_publish_frame;
      report(s, "pcap-mqtt-publish-plaintext",
             std::to_string(publishes) + " PUBLISH packets, " + std::to_string(publish_bytes) +
                 " payload bytes; first topic '" + printable(first_topic, 80) + "'",
             "MQTT PUBLISH payloads in clear");
    }
  }
};

std::span<const RuleInfo> pcap_rules() { return kRules; }

PcapAnalyzer::PcapAnalyzer(PcapLimits limits) : limits_(limits) {}
PcapAnalyzer::~PcapAnalyzer() = default;

PcapAnalyzer::Flow& PcapAnalyzer::flow_for(const TcpSegment& seg, std::uint64_t number) {
  auto key = seg.src < seg.dst ? std::make_pair(seg.src, seg.dst) : std::make_pair(seg.dst, seg.src);
  auto it = flows_.find(key);
  if (it != flows_.end()) return *it->second;
  if (flows_.size() >= limits_.max_flows) {
    auto oldest = std::min_element(flows_.begin(), flows_.end(), [](const auto& a, const auto& b) {
      return a.second->last_frame < b.second->last_frame;
    });
    close_flow(*oldest->second);
    flows_.erase(oldest);
    counters_["flows_evicted"]++;
  }
  auto f = std::make_unique<Flow>();
  // The SYN sender is the client; without a SYN, whoever spoke first.
  bool syn_ack = (seg.flags & kTcpSyn) && (seg.flags & kTcpAck);
  f->client = syn_ack ? seg.dst : seg.src;
  f->server = syn_ack ? seg.src : seg.dst;
  f->last_frame = number;
  counters_["flows"]++;
  return *flows_.emplace(key, std::move(f)).first->second;
}

void PcapAnalyzer::close_flow(Flow& f) {
  Sink s{findings_, counters_, limits_, held_bytes_};
  f.finish(s);
  if (summaries_.size() < limits_.max_flow_summaries) {
    FlowSummary sum{f.client.to_string(), f.server.to_string(), f.protocol, "", f.packets, f.payload_bytes};
    if (f.server_hello) sum.tls_version = tls_version_name(f.server_hello->version());
    summaries_.push_back(std::move(sum));
  }
}

void PcapAnalyzer::on_frame(int dlt, ByteSpan frame, std::uint64_t number) {
  counters_["frames"]++;
  auto seg = decode_tcp_frame(dlt, frame);
  if (!seg) {
    counters_[std::string("skipped_") + std::string(decode_error_name(seg.error()))]++;
    return;
  }
  counters_["tcp_segments"]++;
  Flow& f = flow_for(*seg, number);
  f.last_frame = number;
  f.frame = number;
  Sink s{findings_, counters_, limits_, held_bytes_};
  f.on_segment(s, *seg);
}

void PcapAnalyzer::finish() {
  for (auto& [key, flow] : flows_) close_flow(*flow);
  flows_.clear();
}

nlohmann::json PcapAnalyzer::counters() const { return counters_; }

}  // namespace armored::audit
