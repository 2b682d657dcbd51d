// Streaming decoder: packets split anywhere, several per chunk, sticky errors.
#include "mqtt/decoder.h"

#include <random>

#include "test_util.h"

namespace armored::mqtt {
namespace {

using test::encode_bytes;
using test::hex;

// A stream of one packet of each kind a session sees, concatenated.
Bytes sample_stream() {
  Bytes s;
  static const std::string big(200, 'x');
  Connect c;
  c.client_id = "gw-1";
  c.username = "u";
  c.password = as_bytes("p");
  const Packet packets[] = {
      c,
      ConnAck{false, ConnectReturnCode::kAccepted},
      Publish{"armored/v1/gw-1/up", as_bytes(big), QoS::kAtLeastOnce, false, false, 1},
      Publish{"a", {}, QoS::kAtMostOnce, true, false, 0},
      PubAck{1},
      Subscribe{2, {{"armored/v1/gw-1/down", QoS::kAtLeastOnce}, {"a/+/#", QoS::kAtMostOnce}}},
      SubAck{2, {SubAckCode::kGrantedQos1, SubAckCode::kFailure}},
      Unsubscribe{3, {"a/+/#"}},
      UnsubAck{3},
      PingReq{},
      PingResp{},
      Disconnect{},
  };
  for (const auto& p : packets) {
    Bytes b = encode_bytes(p);
    s.insert(s.end(), b.begin(), b.end());
  }
  return s;
}

// Feeds `stream` in the given chunk sizes and re-encodes every packet out.
Bytes reencode_through_decoder(const Bytes& stream, const std::vector<std::size_t>& chunks, std::size_t* count) {
  Decoder d;
  Bytes out;
  std::size_t pos = 0;
  *count = 0;
  for (std::size_t len : chunks) {
    d.feed(ByteSpan(stream).subspan(pos, len));
    pos += len;
    while (true) {
      auto next = d.next();
      EXPECT_TRUE(next.has_value()) << (next ? "" : next.error().message);
      if (!next || !next->has_value()) break;
      Bytes b = encode_bytes(**next);
      out.insert(out.end(), b.begin(), b.end());
      ++*count;
    }
  }
  EXPECT_EQ(d.buffered(), 0u);
  return out;
}

TEST(MqttDecoder, WholeStreamInOneChunkYieldsEveryPacket) {
  const Bytes stream = sample_stream();
  std::size_t n = 0;
  EXPECT_EQ(reencode_through_decoder(stream, {stream.size()}, &n), stream);
  EXPECT_EQ(n, 12u);
}

TEST(MqttDecoder, EverySplitPointIntoTwoChunks) {
  const Bytes stream = sample_stream();
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    std::size_t n = 0;
    ASSERT_EQ(reencode_through_decoder(stream, {cut, stream.size() - cut}, &n), stream) << "cut " << cut;
    ASSERT_EQ(n, 12u);
  }
}

TEST(MqttDecoder, OneByteAtATime) {
  const Bytes stream = sample_stream();
  std::size_t n = 0;
  EXPECT_EQ(reencode_through_decoder(stream, std::vector<std::size_t>(stream.size(), 1), &n), stream);
  EXPECT_EQ(n, 12u);
}

TEST(MqttDecoder, RandomChunkings) {
  const Bytes stream = sample_stream();
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> chunks;
    std::size_t left = stream.size();
    while (left > 0) {
      std::size_t len = std::min<std::size_t>(left, std::uniform_int_distribution<std::size_t>(0, 40)(rng));
      chunks.push_back(len);
      left -= len;
    }
    std::size_t n = 0;
    ASSERT_EQ(reencode_through_decoder(stream, chunks, &n), stream) << "round " << round;
  }
}

TEST(MqttDecoder, OversizedPacketIsRejectedFromItsHeaderAlone) {
  Limits l;
  l.max_packet_size = 1024;
  Decoder d(l);
  d.feed(hex("30 ff ff 03"));  // announces ~64 KiB; no body sent
  auto r = d.next();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kPacketTooLarge);
  EXPECT_EQ(d.counters().count(ErrorCode::kPacketTooLarge), 1u);
}

TEST(MqttDecoder, TruncatedPacketWaitsForMoreBytes) {
  Decoder d;
  Bytes full = encode_bytes(Publish{"t", as_bytes("abc"), QoS::kAtMostOnce, false, false, 0});
  d.feed(ByteSpan(full).first(full.size() - 1));
  auto r = d.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  d.feed(ByteSpan(full).last(1));
  auto r2 = d.next();
  ASSERT_TRUE(r2.has_value());
  ASSERT_TRUE(r2->has_value());
  EXPECT_EQ(as_string(std::get<Publish>(**r2).payload), "abc");
}

TEST(MqttDecoder, ErrorIsStickyAndCountedOnce) {
  Decoder d;
  Bytes good = encode_bytes(PingReq{});
  d.feed(good);
  d.feed(hex("38 03 0001 74"));  // DUP on QoS 0
  auto first = d.next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_value());  // the good packet before the bad one still comes out
  for (int i = 0; i < 3; ++i) {
    auto r = d.next();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kDupWithQos0);
  }
  d.feed(good);  // ignored after failure
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.counters().count(ErrorCode::kDupWithQos0), 1u);
  EXPECT_EQ(d.counters().total(), 1u);
}

TEST(MqttDecoder, CountsErrorsByKind) {
  const std::pair<const char*, ErrorCode> cases[] = {
      {"30 ff ff ff ff 01", ErrorCode::kMalformedRemainingLength},
      {"36 05 0001 74 0001", ErrorCode::kInvalidQos},
      {"32 05 0001 74 0000", ErrorCode::kZeroPacketId},
      {"30 04 0002 2b61", ErrorCode::kInvalidTopicName},
  };
  ErrorCounters total;
  for (auto [wire, code] : cases) {
    Decoder d;
    d.feed(hex(wire));
    auto r = d.next();
    ASSERT_FALSE(r.has_value()) << wire;
    EXPECT_EQ(r.error().code, code) << wire;
    total.add(d.counters());
  }
  EXPECT_EQ(total.total(), 4u);
  EXPECT_EQ(total.count(ErrorCode::kInvalidQos), 1u);
}

}  // namespace
}  // namespace armored::mqtt
