// The gateway's answers to devices (link/link.h, docs/e3-protocol.md
// section 9.1 "Gateway ingress"): the single form 0xC1/0xC2 || header and the packed
// form 0xC3 || (kind || header)*, built by AnswerPacker and read by
// parse_answers, including every way a packed answer can be malformed.

#include "link/link.h"

#include <gtest/gtest.h>

#include <vector>

#include "link/internal/answer_header.h"

namespace armored::link {
namespace {

using internal::answer_header_size;

Bytes uplink_header(std::uint64_t seq, std::size_t kid_size = 8) {
  Bytes kid(kid_size, 0);
  for (std::size_t i = 0; i < kid_size; ++i) kid[i] = static_cast<std::uint8_t>(0xA0 + i + seq);
  std::array<std::uint8_t, e3::kMaxHeaderSize> h{};
  const std::size_t n = e3::write_data_header(e3::MessageType::kUplink, 7, kid, seq, h);
  return Bytes(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
}

// flags: type 2 (announcement), kid length - 1, no partial IV.
Bytes announcement_header(std::size_t kid_size) {
  Bytes h{static_cast<std::uint8_t>(0x80 | ((kid_size - 1) << 3)), 3};
  for (std::size_t i = 0; i < kid_size; ++i) h.push_back(static_cast<std::uint8_t>(i + 1));
  return h;
}

using Answers = std::array<Answer, kMaxAnswersPerDatagram>;

Result<std::size_t, AnswerError> parse(ByteSpan d, Answers& out, AnswerStats* st = nullptr) {
  return parse_answers(d, out, st);
}

TEST(IngressAnswer, SingleFormRoundTrips) {
  const Bytes h = uplink_header(1000);
  std::array<std::uint8_t, 1 + e3::kMaxHeaderSize> buf{};
  const std::size_t n = write_answer(kAckRefused, h, buf);
  Answers out{};
  AnswerStats st;
  auto r = parse(ByteSpan(buf).first(n), out, &st);
  ASSERT_TRUE(r);
  ASSERT_EQ(*r, 1u);
  EXPECT_EQ(out[0].kind, kAckRefused);
  EXPECT_EQ(Bytes(out[0].header_bytes.begin(), out[0].header_bytes.end()), h);
  EXPECT_EQ(st.single, 1u);
  EXPECT_EQ(st.entries, 1u);
  // The older single-answer parser agrees.
  EXPECT_TRUE(parse_answer(ByteSpan(buf).first(n)));
}

TEST(IngressAnswer, PackerSendsTheSingleFormForOneEntry) {
  const Bytes h = uplink_header(5);
  AnswerPacker p;
  ASSERT_TRUE(p.add(kAckSpooled, h));
  ByteSpan d = p.take();
  std::array<std::uint8_t, 1 + e3::kMaxHeaderSize> buf{};
  const std::size_t n = write_answer(kAckSpooled, h, buf);
  EXPECT_EQ(Bytes(d.begin(), d.end()), Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)));
  EXPECT_TRUE(p.take().empty());  // reset
}

TEST(IngressAnswer, PackedFormCarriesEveryEntryInOrder) {
  std::vector<Bytes> hs = {uplink_header(1), announcement_header(8), uplink_header(70000, 3), uplink_header(1ull << 39),
                           announcement_header(1)};
  AnswerPacker p;
  for (std::size_t i = 0; i < hs.size(); ++i) ASSERT_TRUE(p.add(i % 2 ? kAckRefused : kAckSpooled, hs[i]));
  EXPECT_EQ(p.entries(), hs.size());
  ByteSpan d = p.take();
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0], kAckPacked);
  Answers out{};
  AnswerStats st;
  auto r = parse(d, out, &st);
  ASSERT_TRUE(r);
  ASSERT_EQ(*r, hs.size());
  for (std::size_t i = 0; i < hs.size(); ++i) {
    EXPECT_EQ(out[i].kind, i % 2 ? kAckRefused : kAckSpooled);
    EXPECT_EQ(Bytes(out[i].header_bytes.begin(), out[i].header_bytes.end()), hs[i]) << i;
  }
  EXPECT_EQ(st.packed, 1u);
  EXPECT_EQ(st.entries, hs.size());
  // A device that only knows the single form ignores it rather than misreading it.
  EXPECT_FALSE(parse_answer(d));
}

TEST(IngressAnswer, PackerSplitsAtTheDatagramLimitAndLosesNothing) {
  AnswerPacker p;
  std::vector<Bytes> sent, got;
  std::size_t datagrams = 0;
  auto drain = [&] {
    ByteSpan d = p.take();
    ASSERT_LE(d.size(), kMaxPackedAnswer);
    Answers out{};
    auto r = parse(d, out);
    ASSERT_TRUE(r) << answer_error_name(r.error());
    for (std::size_t i = 0; i < *r; ++i) got.emplace_back(out[i].header_bytes.begin(), out[i].header_bytes.end());
    ++datagrams;
  };
  for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
    Bytes h = uplink_header(seq * 977);
    sent.push_back(h);
    if (!p.add(kAckSpooled, h)) {
      drain();
      ASSERT_TRUE(p.add(kAckSpooled, h));
    }
  }
  drain();
  EXPECT_EQ(got, sent);
  // 1000 answers of 1 + 12..15 bytes: far fewer datagrams than answers.
  EXPECT_LE(datagrams, 1000u * 16 / (kMaxPackedAnswer - 1) + 1);
}

TEST(IngressAnswer, TheSmallestEntriesFillExactlyTheEntryBuffer) {
  AnswerPacker p;
  const Bytes h = announcement_header(1);  // 3 bytes: the smallest header
  std::size_t n = 0;
  while (p.add(kAckSpooled, h)) ++n;
  EXPECT_EQ(n, kMaxAnswersPerDatagram);
  Answers out{};
  auto r = parse(p.take(), out);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, kMaxAnswersPerDatagram);
}

TEST(IngressAnswer, PackerRefusesWhatIsNotAnAnswer) {
  AnswerPacker p;
  EXPECT_FALSE(p.add(0x42, uplink_header(1)));                  // not a kind
  EXPECT_FALSE(p.add(kAckPacked, uplink_header(1)));            // packed is not an entry kind
  Bytes h = uplink_header(1);
  h.push_back(0);
  EXPECT_FALSE(p.add(kAckSpooled, h));                          // longer than its flags say
  EXPECT_FALSE(p.add(kAckSpooled, ByteSpan{}));                 // empty
  std::array<std::uint8_t, e3::kMaxHeaderSize> down{};
  const std::size_t n = e3::write_data_header(e3::MessageType::kDownlink, 1, Bytes{1, 2}, 9, down);
  EXPECT_FALSE(p.add(kAckSpooled, ByteSpan(down).first(n)));    // downlinks are never answered
  EXPECT_EQ(p.entries(), 0u);
}

TEST(IngressAnswer, HeaderSizeFollowsTheFlags) {
  EXPECT_EQ(answer_header_size(0x00 | (7 << 3) | 5), 2u + 8 + 5);  // uplink, 8-byte kid, 5-byte PIV
  EXPECT_EQ(answer_header_size(0x00 | 1), 2u + 1 + 1);
  EXPECT_EQ(answer_header_size(0x80 | (3 << 3)), 2u + 4);           // announcement, 4-byte kid
  EXPECT_EQ(answer_header_size(0x00), 0u);                          // uplink without PIV
  EXPECT_EQ(answer_header_size(0x06), 0u);                          // PIV of 6 bytes
  EXPECT_EQ(answer_header_size(0x81), 0u);                          // announcement with PIV bits
  EXPECT_EQ(answer_header_size(0x41), 0u);                          // downlink
  EXPECT_EQ(answer_header_size(0xC1), 0u);                          // reserved type
}

struct Malformed {
  const char* what;
  Bytes datagram;
  AnswerError error;
};

std::vector<Malformed> malformed_answers() {
  const Bytes h = uplink_header(300);
  Bytes packed{kAckPacked, kAckSpooled};
  packed.insert(packed.end(), h.begin(), h.end());
  std::vector<Malformed> v;
  v.push_back({"packed tag alone", {kAckPacked}, AnswerError::kTruncated});
  v.push_back({"packed, kind without header", {kAckPacked, kAckSpooled}, AnswerError::kTruncated});
  Bytes cut = packed;
  cut.pop_back();
  v.push_back({"packed, header cut short", cut, AnswerError::kTruncated});
  Bytes bad_kind = packed;
  bad_kind[1] = 0x00;
  v.push_back({"packed, unknown kind", bad_kind, AnswerError::kBadKind});
  Bytes nested = packed;
  nested[1] = kAckPacked;
  v.push_back({"packed inside packed", nested, AnswerError::kBadKind});
  Bytes downlink = packed;
  downlink[2] = static_cast<std::uint8_t>(0x40 | (downlink[2] & 0x3F));
  v.push_back({"packed, downlink header", downlink, AnswerError::kBadHeader});
  Bytes reserved = packed;
  reserved[2] = static_cast<std::uint8_t>(0xC0 | (reserved[2] & 0x3F));
  v.push_back({"packed, reserved type", reserved, AnswerError::kBadHeader});
  Bytes big{kAckPacked};
  while (big.size() <= kMaxPackedAnswer) {
    big.push_back(kAckSpooled);
    big.insert(big.end(), h.begin(), h.end());
  }
  v.push_back({"packed, over the size limit", big, AnswerError::kOversized});
  Bytes single{kAckSpooled};
  single.insert(single.end(), h.begin(), h.end());
  Bytes trailing = single;
  trailing.push_back(0);
  v.push_back({"single, trailing byte", trailing, AnswerError::kOversized});
  Bytes short_single = single;
  short_single.pop_back();
  v.push_back({"single, header cut short", short_single, AnswerError::kTruncated});
  v.push_back({"single, two bytes", {kAckSpooled, 0x01}, AnswerError::kTruncated});
  Bytes single_down = single;
  single_down[1] = static_cast<std::uint8_t>(0x40 | (single_down[1] & 0x3F));
  v.push_back({"single, downlink header", single_down, AnswerError::kBadHeader});
  Bytes huge_single(1 + e3::kMaxHeaderSize + 1, 0x07);
  huge_single[0] = kAckRefused;
  v.push_back({"single, longer than any header", huge_single, AnswerError::kOversized});
  return v;
}

TEST(IngressAnswer, MalformedAnswersAreRejectedWithTheirReasonAndCounted) {
  AnswerStats st;
  std::uint64_t expected_rejects = 0;
  for (const auto& m : malformed_answers()) {
    Answers out{};
    auto r = parse(m.datagram, out, &st);
    ASSERT_FALSE(r) << m.what;
    EXPECT_EQ(r.error(), m.error) << m.what << ": " << answer_error_name(r.error());
    ++expected_rejects;
  }
  EXPECT_EQ(st.rejected, expected_rejects);
  EXPECT_EQ(st.entries, 0u);
}

TEST(IngressAnswer, CommandsAndEmptyDatagramsAreNotAnswersAndNotCountedAsRejects) {
  std::array<std::uint8_t, 64> env{};
  const std::size_t n = e3::write_data_header(e3::MessageType::kDownlink, 1, Bytes{1, 2, 3}, 42, env);
  AnswerStats st;
  Answers out{};
  auto r = parse(ByteSpan(env).first(n + 20), out, &st);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AnswerError::kNotAnswer);
  r = parse(ByteSpan{}, out, &st);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AnswerError::kNotAnswer);
  EXPECT_EQ(st.rejected, 0u);
}

TEST(IngressAnswer, MoreEntriesThanTheCallerHoldsIsTooMany) {
  AnswerPacker p;
  for (std::uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(p.add(kAckSpooled, uplink_header(s)));
  ByteSpan d = p.take();
  std::array<Answer, 4> small{};
  auto r = parse_answers(d, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AnswerError::kTooMany);
  std::array<Answer, 0> none{};
  Bytes single{kAckSpooled};
  const Bytes h = uplink_header(1);
  single.insert(single.end(), h.begin(), h.end());
  r = parse_answers(single, none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AnswerError::kTooMany);
}

TEST(IngressAnswer, EveryPrefixOfAPackedAnswerFailsOrYieldsOnlyWholeEntries) {
  AnswerPacker p;
  std::vector<Bytes> hs;
  for (std::uint64_t s = 1; s <= 6; ++s) {
    hs.push_back(s % 3 ? uplink_header(s * 100000, s) : announcement_header(s));
    ASSERT_TRUE(p.add(kAckSpooled, hs.back()));
  }
  ByteSpan full = p.take();
  Bytes copy(full.begin(), full.end());
  for (std::size_t len = 0; len <= copy.size(); ++len) {
    Answers out{};
    auto r = parse(ByteSpan(copy).first(len), out);
    if (!r) continue;
    // A cut on an entry boundary is a shorter valid answer: its entries are
    // exactly the first ones, never a misread header.
    for (std::size_t i = 0; i < *r; ++i) {
      EXPECT_EQ(Bytes(out[i].header_bytes.begin(), out[i].header_bytes.end()), hs[i]) << len;
    }
  }
}

}  // namespace
}  // namespace armored::link
