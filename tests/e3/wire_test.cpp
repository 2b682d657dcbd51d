// Header parsing rules (docs/e3-protocol.md section 3).

#include <gtest/gtest.h>

#include "common/hex.h"
#include "e3/wire.h"

namespace armored::e3 {
namespace {

// Header spans point into the message, so the bytes must outlive the result.
E3Result<Header> parse(const std::string& hex) {
  static std::vector<Bytes> keep;
  keep.push_back(*from_hex(hex));
  return parse_header(keep.back());
}

TEST(E3Wire, ParsesDataHeader) {
  // type 0, kid length 3, PIV length 2; epoch id 7; kid 4a7f01; PIV 0102; body aabb.
  auto h = parse("12074a7f010102aabb");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, MessageType::kUplink);
  EXPECT_EQ(h->epoch_id, 7);
  EXPECT_EQ(to_hex(h->kid), "4a7f01");
  EXPECT_EQ(h->sequence, 0x0102u);
  EXPECT_EQ(h->header_size, 7u);
  EXPECT_EQ(to_hex(h->body), "aabb");
}

TEST(E3Wire, FlagsByteFieldsFollowSection3) {
  // 0x12 = 00 010 010: uplink, kid length 3, PIV length 2 (the header above).
  EXPECT_EQ(flags_type(0x12), MessageType::kUplink);
  EXPECT_EQ(flags_kid_size(0x12), 3u);
  EXPECT_EQ(flags_partial_iv_size(0x12), 2u);
  // 0x7D = 01 111 101: downlink, 8-byte kid, 5-byte PIV.
  EXPECT_EQ(flags_type(0x7D), MessageType::kDownlink);
  EXPECT_EQ(flags_kid_size(0x7D), 8u);
  EXPECT_EQ(flags_partial_iv_size(0x7D), 5u);
  // 0x80 = 10 000 000: announcement, 1-byte kid, no PIV.
  EXPECT_EQ(flags_type(0x80), MessageType::kAnnouncement);
  EXPECT_EQ(flags_kid_size(0x80), 1u);
  EXPECT_EQ(flags_partial_iv_size(0x80), 0u);
  // Type 3 is reserved: batches (0xC0) and gateway answers (0xC1..0xC3) start with it.
  for (unsigned b = 0xC0; b <= 0xFF; ++b) EXPECT_FALSE(flags_type(static_cast<std::uint8_t>(b))) << b;
  EXPECT_EQ(make_flags(MessageType::kUplink, 3, 2), 0x12);
  EXPECT_EQ(make_flags(MessageType::kDownlink, 8, 5), 0x7D);
  EXPECT_EQ(make_flags(MessageType::kAnnouncement, 1, 0), 0x80);
  for (unsigned b = 0; b < 0xC0; ++b) {
    const auto f = static_cast<std::uint8_t>(b);
    EXPECT_EQ(make_flags(*flags_type(f), flags_kid_size(f), flags_partial_iv_size(f)), f) << b;
  }
}

TEST(E3Wire, WritesWhatItParses) {
  Bytes out(kMaxHeaderSize);
  const Bytes kid = {1, 2, 3, 4, 5, 6, 7, 8};
  for (std::uint64_t seq : std::initializer_list<std::uint64_t>{0, 1, 255, 256, 65535, 1ull << 24, kMaxSequence}) {
    std::size_t n = write_data_header(MessageType::kDownlink, 200, kid, seq, out);
    Bytes msg(out.begin(), out.begin() + n);
    msg.push_back(0);
    auto h = parse_header(msg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, MessageType::kDownlink);
    EXPECT_EQ(h->sequence, seq);
    EXPECT_EQ(h->epoch_id, 200);
    EXPECT_EQ(h->header_size, n);
  }
}

TEST(E3Wire, RejectsMalformedHeaders) {
  EXPECT_EQ(parse("").error().code, E3Errc::kMalformed);
  EXPECT_EQ(parse("01").error().code, E3Errc::kMalformed);
  EXPECT_STREQ(parse("c1000100aa").error().message, "reserved message type");
  EXPECT_STREQ(parse("00000100aa").error().message, "partial IV length not 1..5");
  EXPECT_STREQ(parse("06000100000000000000aa").error().message, "partial IV length not 1..5");
  EXPECT_STREQ(parse("0200010001aa").error().message, "non-minimal partial IV");
  EXPECT_STREQ(parse("010001").error().message, "truncated partial IV");
  EXPECT_STREQ(parse("3900").error().message, "truncated key ID");
  EXPECT_STREQ(parse("01000100").error().message, "no body after header");
  EXPECT_STREQ(parse("8100018400").error().message, "announcement with partial IV bits set");
}

TEST(E3Wire, AadIsTheEncStructure) {
  std::array<std::uint8_t, kMaxAadSize> aad{};
  const Bytes kid = {0x4a, 0x7f, 0x01};
  const Bytes piv = {0x05};
  std::size_t n = write_aad(crypto::AeadAlg::kAes128Gcm, kid, piv, 1, MessageType::kUplink, aad);
  // ["Encrypt0", h'', << [1, [1], h'4a7f01', h'05', 1, 0] >>]
  EXPECT_EQ(to_hex(ByteSpan(aad.data(), n)), "8368456e637279707430" "40" "4c" "86018101434a7f0141050100");
}

}  // namespace
}  // namespace armored::e3
