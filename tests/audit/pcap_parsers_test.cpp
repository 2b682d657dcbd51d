// Link/IP/TCP decoding, stream reassembly and the MQTT/HTTP/TLS parsers of
// `audit pcap`, on frames built here (the live captures are in
// pcap_capture_test.cpp).

#include <gtest/gtest.h>

#include "audit/pcap_analyzer.h"
#include "audit/pcap_packet.h"
#include "audit/pcap_protocols.h"

namespace armored::audit {
namespace {

Bytes ipv4_tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint8_t flags,
               const Bytes& payload, std::uint8_t src_last = 1, std::uint8_t dst_last = 2) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x45);
  w.u8(0);
  w.u16be(static_cast<std::uint16_t>(20 + 20 + payload.size()));
  w.u16be(1);
  w.u16be(0x4000);  // DF
  w.u8(64);
  w.u8(6);
  w.u16be(0);
  for (std::uint8_t b : Bytes{10, 0, 0, src_last}) w.u8(b);
  for (std::uint8_t b : Bytes{10, 0, 0, dst_last}) w.u8(b);
  w.u16be(sport);
  w.u16be(dport);
  w.u32be(seq);
  w.u32be(0);
  w.u8(0x50);
  w.u8(flags);
  w.u16be(65535);
  w.u32be(0);
  w.bytes(payload);
  return p;
}

Bytes ethernet(const Bytes& ip, std::uint16_t type = 0x0800) {
  Bytes f(12, 0xaa);
  f.push_back(static_cast<std::uint8_t>(type >> 8));
  f.push_back(static_cast<std::uint8_t>(type));
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes mqtt_connect(const std::string& user, const std::string& pass) {
  Bytes body;
  ByteWriter w(body);
  w.u16be(4);
  w.str("MQTT");
  w.u8(4);
  w.u8(0xC2);  // username, password, clean session
  w.u16be(60);
  w.u16be(6);
  w.str("dev-01");
  w.u16be(static_cast<std::uint16_t>(user.size()));
  w.str(user);
  w.u16be(static_cast<std::uint16_t>(pass.size()));
  w.str(pass);
  Bytes pkt = {0x10, static_cast<std::uint8_t>(body.size())};
  pkt.insert(pkt.end(), body.begin(), body.end());
  return pkt;
}

Bytes mqtt_publish(const std::string& topic, const std::string& payload) {
  Bytes pkt = {0x30, static_cast<std::uint8_t>(2 + topic.size() + payload.size()), 0,
               static_cast<std::uint8_t>(topic.size())};
  pkt.insert(pkt.end(), topic.begin(), topic.end());
  pkt.insert(pkt.end(), payload.begin(), payload.end());
  return pkt;
}

Bytes tls_hello(std::uint8_t type, std::uint16_t legacy, std::vector<std::uint16_t> versions,
                std::uint16_t suite = 0x1301) {
  Bytes body;
  ByteWriter w(body);
  w.u16be(legacy);
  w.bytes(Bytes(32, 7));
  w.u8(0);
  if (type == 1) {
    w.u16be(2);
    w.u16be(suite);
    w.u8(1);
    w.u8(0);
  } else {
    w.u16be(suite);
    w.u8(0);
  }
  Bytes ext;
  ByteWriter e(ext);
  if (!versions.empty()) {
    e.u16be(43);
    if (type == 1) {
      e.u16be(static_cast<std::uint16_t>(1 + 2 * versions.size()));
      e.u8(static_cast<std::uint8_t>(2 * versions.size()));
    } else {
      e.u16be(2);
    }
    for (auto v : versions) e.u16be(v);
  }
  w.u16be(static_cast<std::uint16_t>(ext.size()));
  w.bytes(ext);
  Bytes rec = {22, 3, 1, 0, 0, type, 0, 0, 0};
  rec[3] = static_cast<std::uint8_t>((body.size() + 4) >> 8);
  rec[4] = static_cast<std::uint8_t>(body.size() + 4);
  rec[7] = static_cast<std::uint8_t>(body.size() >> 8);
  rec[8] = static_cast<std::uint8_t>(body.size());
  rec.insert(rec.end(), body.begin(), body.end());
  return rec;
}

std::vector<std::string> rule_ids(const PcapAnalyzer& a) {
  std::vector<std::string> out;
  for (const auto& f : a.findings()) out.push_back(f.rule_id);
  return out;
}

TEST(AuditPcapDecode, LinkTypesAndIpVersions) {
  Bytes ip = ipv4_tcp(40000, 1883, 100, kTcpAck, str("hi"));
  Bytes frame = ethernet(ip);
  auto eth = decode_tcp_frame(kDltEthernet, frame);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->src.to_string(), "10.0.0.1:40000");
  EXPECT_EQ(eth->dst.port, 1883);
  EXPECT_EQ(as_string(eth->payload), "hi");
  Bytes vlan = ethernet(Bytes{0, 5, 0x08, 0x00}, 0x8100);
  vlan.insert(vlan.end(), ip.begin(), ip.end());
  EXPECT_TRUE(decode_tcp_frame(kDltEthernet, vlan));
  Bytes sll(14, 0);
  sll.push_back(0x08);
  sll.push_back(0x00);
  sll.insert(sll.end(), ip.begin(), ip.end());
  EXPECT_TRUE(decode_tcp_frame(kDltLinuxSll, sll));
  Bytes sll2 = {0x08, 0x00};
  sll2.resize(20, 0);
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  EXPECT_TRUE(decode_tcp_frame(kDltLinuxSll2, sll2));
  Bytes null_hdr = {2, 0, 0, 0};
  null_hdr.insert(null_hdr.end(), ip.begin(), ip.end());
  EXPECT_TRUE(decode_tcp_frame(kDltNull, null_hdr));
  EXPECT_TRUE(decode_tcp_frame(kDltRaw, ip));

  Bytes v6(40, 0);
  v6[0] = 0x60;
  Bytes tcp(ip.begin() + 20, ip.end());
  v6[4] = 0;
  v6[5] = static_cast<std::uint8_t>(tcp.size());
  v6[6] = 6;
  v6[23] = 1;
  v6[39] = 1;
  v6.insert(v6.end(), tcp.begin(), tcp.end());
  auto six = decode_tcp_frame(kDltRaw, v6);
  ASSERT_TRUE(six);
  EXPECT_EQ(six->src.to_string(), "[::1]:40000");
}

TEST(AuditPcapDecode, RejectsWithTypedReasons) {
  Bytes ip = ipv4_tcp(1, 2, 3, 0, {});
  EXPECT_EQ(decode_tcp_frame(kDltEthernet, Bytes(10, 0)).error(), DecodeError::kTruncated);
  EXPECT_EQ(decode_tcp_frame(999, ip).error(), DecodeError::kUnsupportedLink);
  EXPECT_EQ(decode_tcp_frame(kDltEthernet, ethernet(ip, 0x0806)).error(), DecodeError::kNotIp);
  Bytes udp = ip;
  udp[9] = 17;
  EXPECT_EQ(decode_tcp_frame(kDltRaw, udp).error(), DecodeError::kNotTcp);
  Bytes frag = ip;
  frag[6] = 0x20;  // more fragments
  EXPECT_EQ(decode_tcp_frame(kDltRaw, frag).error(), DecodeError::kFragment);
  Bytes bad_ihl = ip;
  bad_ihl[0] = 0x44;
  EXPECT_EQ(decode_tcp_frame(kDltRaw, bad_ihl).error(), DecodeError::kBadHeader);
  Bytes bad_off = ip;
  bad_off[32] = 0x30;  // TCP data offset 12 bytes
  EXPECT_EQ(decode_tcp_frame(kDltRaw, bad_off).error(), DecodeError::kBadHeader);
  EXPECT_EQ(decode_tcp_frame(kDltRaw, Bytes(ip.begin(), ip.begin() + 30)).error(), DecodeError::kTruncated);
}

TEST(AuditPcapProtocols, MqttConnectAndPublish) {
  auto c = parse_mqtt_connect(mqtt_connect("alice", "s3cret-pass"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->level, 4);
  EXPECT_EQ(c->client_id, "dev-01");
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->password, "s3cret-pass");
  Bytes truncated = mqtt_connect("alice", "x");
  truncated.pop_back();
  EXPECT_FALSE(parse_mqtt_connect(truncated));
  Bytes wrong_proto = mqtt_connect("a", "b");
  wrong_proto[5] = 'X';
  EXPECT_FALSE(parse_mqtt_connect(wrong_proto));
  Bytes reserved = mqtt_connect("a", "b");
  reserved[9] |= 1;  // reserved flag bit [MQTT-3.1.2-3]
  EXPECT_FALSE(parse_mqtt_connect(reserved));
  auto pub = mqtt_publish("t/1", "22.5");
  auto p = parse_mqtt_publish(pub, pub.size(), 4);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->topic, "t/1");
  EXPECT_EQ(p->payload_len, 4u);
  EXPECT_EQ(mqtt_frame(Bytes{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}).status, FrameStatus::kInvalid);
  EXPECT_EQ(mqtt_frame(Bytes{0x30, 0xff}).status, FrameStatus::kNeedMore);
}

TEST(AuditPcapProtocols, HttpCredentialsAndBase64) {
  auto h = parse_http_request_head(
      "POST /v1/data HTTP/1.1\r\nHost: x\r\nauthorization: Basic YWxpY2U6cDRzcw==\r\nContent-Length: 5\r\n");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->credentials.size(), 1u);
  EXPECT_EQ(h->credentials[0].user, "alice");
  EXPECT_EQ(h->credentials[0].secret, "p4ss");
  EXPECT_EQ(h->content_length, 5u);
  auto b = parse_http_request_head("GET / HTTP/1.0\r\nAuthorization: Bearer abc.def\r\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->credentials[0].scheme, "Bearer");
  EXPECT_FALSE(parse_http_request_head("GET /\r\n"));
  EXPECT_FALSE(decode_base64("a*b"));
  EXPECT_TRUE(looks_like_http_request(str("GET / HTTP/1.1")));
  EXPECT_FALSE(looks_like_http_request(str("GETX")));
}

TEST(AuditPcapProtocols, TlsHellos) {
  auto ch = tls_hello(1, 0x0303, {0x0a0a, 0x0304, 0x0303});
  auto body = ByteSpan(ch).subspan(9);
  auto info = parse_client_hello(body);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->max_version(), 0x0304);
  EXPECT_EQ(info->supported_versions.size(), 2u);  // GREASE dropped
  auto old = parse_client_hello(ByteSpan(tls_hello(1, 0x0301, {})).subspan(9));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->max_version(), 0x0301);
  auto sh = parse_server_hello(ByteSpan(tls_hello(2, 0x0303, {0x0304})).subspan(9));
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->version(), 0x0304);
  EXPECT_FALSE(parse_client_hello(body.first(20)));
  Bytes bad_ext = ch;
  bad_ext.back() = 0x09;  // supported_versions entry cut
  bad_ext.pop_back();
  EXPECT_FALSE(parse_client_hello(ByteSpan(bad_ext).subspan(9)));
  EXPECT_EQ(tls_record_header(Bytes{22, 3, 1, 0xff, 0xff}).status, FrameStatus::kInvalid);  // oversized
  EXPECT_EQ(tls_version_name(0x0301), "TLS 1.0");
}

TEST(AuditPcapAnalyzer, MqttSplitAcrossOutOfOrderSegmentsAndRetransmitted) {
  PcapAnalyzer a;
  auto connect = mqtt_connect("alice", "s3cret-pass");
  std::uint64_t n = 0;
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 999, kTcpSyn, {}), ++n);
  Bytes p1(connect.begin(), connect.begin() + 5), p2(connect.begin() + 5, connect.begin() + 17),
      p3(connect.begin() + 17, connect.end());
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 1000 + 17, kTcpAck, p3), ++n);  // early
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 1000, kTcpAck, p1), ++n);
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 1000, kTcpAck, p1), ++n);  // retransmission
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 1000 + 5, kTcpAck, p2), ++n);
  auto pub = mqtt_publish("plant/temp", "21.5");
  a.on_frame(kDltRaw, ipv4_tcp(40000, 1883, 1000 + static_cast<std::uint32_t>(connect.size()), kTcpAck, pub), ++n);
  a.finish();
  auto ids = rule_ids(a);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "pcap-mqtt-credentials");
  EXPECT_EQ(ids[1], "pcap-mqtt-publish-plaintext");
  EXPECT_EQ(a.findings()[0].evidence.find("s3cret-pass"), std::string::npos);
  EXPECT_EQ(a.flows().at(0).protocol, "mqtt");
  EXPECT_EQ(a.counters()["tcp_retransmissions"], 1);
}

TEST(AuditPcapAnalyzer, TlsOldVersionAndDowngrade) {
  PcapAnalyzer a;
  a.on_frame(kDltRaw, ipv4_tcp(40001, 443, 1, kTcpAck, tls_hello(1, 0x0301, {})), 1);
  a.on_frame(kDltRaw, ipv4_tcp(40002, 443, 1, kTcpAck, tls_hello(1, 0x0303, {0x0304, 0x0303})), 2);
  a.on_frame(kDltRaw, ipv4_tcp(443, 40002, 1, kTcpAck, tls_hello(2, 0x0303, {}), 2, 1), 3);
  a.on_frame(kDltRaw, ipv4_tcp(40003, 443, 1, kTcpAck, tls_hello(1, 0x0303, {0x0304, 0x0303})), 4);
  a.on_frame(kDltRaw, ipv4_tcp(443, 40003, 1, kTcpAck, tls_hello(2, 0x0303, {0x0304}), 2, 1), 5);
  a.finish();
  auto ids = rule_ids(a);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "pcap-tls-old-version");
  EXPECT_EQ(ids[1], "pcap-tls-downgrade");
}

TEST(AuditPcapAnalyzer, HttpBasicAndBearer) {
  PcapAnalyzer a;
  a.on_frame(kDltRaw,
             ipv4_tcp(40010, 80, 1, kTcpAck,
                      str("POST /a HTTP/1.1\r\nAuthorization: Basic YWxpY2U6cDRzc3dvcmQ=\r\nContent-Length: 2\r\n\r\nhi"
                          "GET /b HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOi.x.y\r\n\r\n")),
             1);
  a.finish();
  auto ids = rule_ids(a);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "pcap-http-basic-auth");
  EXPECT_EQ(ids[1], "pcap-http-bearer-token");
  EXPECT_EQ(a.findings()[0].evidence.find("p4ssword"), std::string::npos);
}

TEST(AuditPcapAnalyzer, LimitsBoundFlowsAndOutOfOrderBuffers) {
  PcapLimits limits;
  limits.max_flows = 4;
  limits.max_out_of_order_segments = 2;
  PcapAnalyzer a(limits);
  std::uint64_t n = 0;
  for (std::uint16_t port = 1; port <= 10; ++port) {
    a.on_frame(kDltRaw, ipv4_tcp(port, 1883, 5, kTcpAck, str("x")), ++n);
  }
  EXPECT_EQ(a.counters()["flows_evicted"], 6);
  // Segments far ahead of a hole: beyond the cap the direction is given up.
  for (std::uint32_t i = 1; i <= 4; ++i) {  // first in order, two held, one too many
    a.on_frame(kDltRaw, ipv4_tcp(50000, 1883, 1000 * i, kTcpAck, str("y")), ++n);
  }
  EXPECT_EQ(a.counters()["tcp_gaps"], 1);
  a.finish();
  EXPECT_TRUE(a.findings().empty());
}

TEST(AuditPcapAnalyzer, CaptureWideOutOfOrderBudget) {
  PcapLimits limits;
  limits.max_total_out_of_order_bytes = 10;
  PcapAnalyzer a(limits);
  std::uint64_t n = 0;
  // Two flows each hold 6 bytes ahead of a hole: the second exceeds the budget.
  for (int p : {7001, 7002}) {
    auto port = static_cast<std::uint16_t>(p);
    a.on_frame(kDltRaw, ipv4_tcp(port, 1883, 100, kTcpAck, str("a")), ++n);
    a.on_frame(kDltRaw, ipv4_tcp(port, 1883, 200, kTcpAck, str("bbbbbb")), ++n);
  }
  EXPECT_EQ(a.counters()["tcp_gaps"], 1);
  // Filling the first hole releases its bytes for others.
  a.on_frame(kDltRaw, ipv4_tcp(7001, 1883, 101, kTcpAck, Bytes(99, 'c')), ++n);
  a.on_frame(kDltRaw, ipv4_tcp(7003, 1883, 100, kTcpAck, str("a")), ++n);
  a.on_frame(kDltRaw, ipv4_tcp(7003, 1883, 200, kTcpAck, str("dddddd")), ++n);
  EXPECT_EQ(a.counters()["tcp_gaps"], 1);
  a.finish();
}

TEST(AuditPcapAnalyzer, GarbageIsCountedNotFatal) {
  PcapAnalyzer a;
  Bytes junk = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff};
  a.on_frame(kDltRaw, ipv4_tcp(1, 2, 1, kTcpAck, junk), 1);
  a.on_frame(kDltRaw, Bytes{0x45}, 2);
  a.on_frame(kDltEthernet, Bytes{}, 3);
  a.finish();
  EXPECT_TRUE(a.findings().empty());
  EXPECT_EQ(a.counters()["skipped_truncated"], 2);
}

}  // namespace
}  // namespace armored::audit
