// Section 9.1 on the device: answers as the real gateway code packs them are
// parsed and applied to the outbox; every malformed form is dropped whole.

#include <gtest/gtest.h>

#include "link/link.h"
#include "sdk_support.h"

namespace armored::sdk_test {
namespace {

Buf uplink_header(std::uint8_t seq) { return {0x11, 0x01, 0x4a, 0x7f, 0x01, seq}; }
const Buf kAnnouncementHeader = {0x90, 0x01, 0x4a, 0x7f, 0x01};

TEST(Answers, SingleAndPackedFromTheGatewayPacker_Section9_1) {
  link::AnswerPacker packer;
  ASSERT_TRUE(packer.add(link::kAckSpooled, uplink_header(7)));
  const ByteSpan taken = packer.take();
  const Buf one(taken.begin(), taken.end());
  ASSERT_EQ(one, (Buf{0xC1, 0x11, 0x01, 0x4a, 0x7f, 0x01, 0x07}));
  armored_answer a[4];
  std::size_t n = 0;
  ASSERT_EQ(armored_parse_answers(one.data(), one.size(), a, 4, &n), ARMORED_OK);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(a[0].kind, ARMORED_ANSWER_SPOOLED);
  EXPECT_EQ(Buf(a[0].header, a[0].header + a[0].header_len), uplink_header(7));

  ASSERT_TRUE(packer.add(link::kAckSpooled, uplink_header(1)));
  ASSERT_TRUE(packer.add(link::kAckRefused, kAnnouncementHeader));
  ASSERT_TRUE(packer.add(link::kAckSpooled, uplink_header(2)));
  const ByteSpan packed = packer.take();
  ASSERT_EQ(armored_parse_answers(packed.data(), packed.size(), a, 4, &n), ARMORED_OK);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(a[1].kind, ARMORED_ANSWER_REFUSED);
  EXPECT_EQ(Buf(a[1].header, a[1].header + a[1].header_len), kAnnouncementHeader);
  EXPECT_EQ(armored_parse_answers(packed.data(), packed.size(), a, 2, &n), ARMORED_E_BUFFER_TOO_SMALL);
}

TEST(Answers, MalformedAnswersAreRefusedWhole_Section9_1) {
  armored_answer a[4];
  std::size_t n = 0;
  auto parse = [&](const Buf& d) { return armored_parse_answers(d.data(), d.size(), a, 4, &n); };
  EXPECT_EQ(parse({0x11, 0x01}), ARMORED_E_NOT_ANSWER);                            // an E3 message
  EXPECT_EQ(parse({}), ARMORED_E_NOT_ANSWER);
  EXPECT_EQ(parse({0xC1, 0x11, 0x01, 0x4a, 0x7f, 0x01}), ARMORED_E_MALFORMED);       // header cut short
  EXPECT_EQ(parse({0xC1, 0x11, 0x01, 0x4a, 0x7f, 0x01, 0x07, 0x00}), ARMORED_E_MALFORMED);  // trailing byte
  EXPECT_EQ(parse({0xC1, 0x51, 0x01, 0x4a, 0x7f, 0x01, 0x07}), ARMORED_E_MALFORMED); // downlink header
  EXPECT_EQ(parse({0xC1, 0x16, 0x01, 0x4a, 0x7f, 0x01, 1, 2, 3, 4, 5, 6}), ARMORED_E_MALFORMED);  // PIV 6
  EXPECT_EQ(parse({0xC1, 0x91, 0x01, 0x4a, 0x7f, 0x01}), ARMORED_E_MALFORMED);       // announcement with PIV
  EXPECT_EQ(parse({0xC3}), ARMORED_E_MALFORMED);                                    // no entry
  EXPECT_EQ(parse({0xC3, 0xC3, 0x90, 0x01, 0x4a, 0x7f, 0x01}), ARMORED_E_MALFORMED); // nested packed
  EXPECT_EQ(parse({0xC3, 0xC1, 0x90, 0x01, 0x4a, 0x7f, 0x01, 0xC1}), ARMORED_E_MALFORMED);  // kind, no header
  Buf big(1201, 0);
  big[0] = 0xC3;
  for (std::size_t i = 1; i + 4 <= big.size(); i += 4) {
    big[i] = 0xC1;
    big[i + 1] = 0x80;
    big[i + 2] = 0x01;
    big[i + 3] = 0x07;
  }
  EXPECT_EQ(parse(big), ARMORED_E_MALFORMED);  // over 1200 bytes
}

// A context is needed only for its platform (clock, send).
struct OutboxTest : ::testing::Test {
  OutboxTest() {
    ctx.platform = &board.platform;
    armored_outbox_init(&ob, slots, 3, 5);
  }
  Board board;
  armored_ctx ctx{};
  armored_outbox_slot slots[3];
  armored_outbox ob{};
  armored_event ev{};
};

Buf message(std::uint8_t seq) {
  Buf m = uplink_header(seq);
  m.resize(m.size() + 20, 0xee);
  return m;
}

TEST_F(OutboxTest, SpooledReleasesRefusedDelaysAndPollResends_Section9_1) {
  ASSERT_EQ(armored_outbox_send(&ob, &ctx, message(1).data(), message(1).size()), ARMORED_OK);
  ASSERT_EQ(armored_outbox_send(&ob, &ctx, message(2).data(), message(2).size()), ARMORED_OK);
  ASSERT_EQ(armored_outbox_send(&ob, &ctx, message(3).data(), message(3).size()), ARMORED_OK);
  EXPECT_EQ(armored_outbox_send(&ob, &ctx, message(4).data(), message(4).size()), ARMORED_E_FULL);
  EXPECT_EQ(board.sent.size(), 3u);
  const Buf packed = {0xC3, 0xC1, 0x11, 0x01, 0x4a, 0x7f, 0x01, 0x01, 0xC2, 0x11, 0x01, 0x4a, 0x7f, 0x01, 0x02};
  ASSERT_EQ(armored_receive(&ctx, &ob, packed.data(), packed.size(), nullptr, 0, &ev), ARMORED_OK);
  EXPECT_EQ(ev.kind, ARMORED_EVENT_ANSWERS);
  EXPECT_EQ(ev.spooled, 1u);
  EXPECT_EQ(ev.refused, 1u);
  EXPECT_EQ(armored_outbox_pending(&ob), 2u);
  // The same answer again matches nothing more.
  ASSERT_EQ(armored_receive(&ctx, &ob, packed.data(), packed.size(), nullptr, 0, &ev), ARMORED_OK);
  EXPECT_EQ(ev.spooled, 0u);
  board.now += 5;
  armored_outbox_poll(&ob, &ctx);
  EXPECT_EQ(board.sent.size(), 5u);  // 2 and 3 again
  EXPECT_EQ(board.sent[3], message(2));
  // Malformed: nothing acted on, counted.
  const Buf bad = {0xC3, 0xC1, 0x11, 0x01, 0x4a, 0x7f, 0x01, 0x02, 0xC5};
  EXPECT_EQ(armored_receive(&ctx, &ob, bad.data(), bad.size(), nullptr, 0, &ev), ARMORED_E_MALFORMED);
  EXPECT_EQ(armored_outbox_pending(&ob), 2u);
  EXPECT_EQ(ob.malformed_answers, 1u);
  // Back-off doubles: the next re-send of 2 is 10 s later, not 5.
  board.now += 5;
  armored_outbox_poll(&ob, &ctx);
  EXPECT_EQ(board.sent.size(), 5u);
  board.now += 5;
  armored_outbox_poll(&ob, &ctx);
  EXPECT_EQ(board.sent.size(), 7u);
}

TEST_F(OutboxTest, RefusesWhatNoAnswerCouldMatch) {
  const Buf downlink = {0x51, 0x01, 0x4a, 0x7f, 0x01, 0x01, 0xee};
  EXPECT_EQ(armored_outbox_send(&ob, &ctx, downlink.data(), downlink.size()), ARMORED_E_MALFORMED);
  const Buf header_only = uplink_header(1);
  EXPECT_EQ(armored_outbox_send(&ob, &ctx, header_only.data(), header_only.size()), ARMORED_E_MALFORMED);
  Buf huge = message(1);
  huge.resize(ARMORED_SLOT_SIZE + 1);
  EXPECT_EQ(armored_outbox_send(&ob, &ctx, huge.data(), huge.size()), ARMORED_E_BUFFER_TOO_SMALL);
}

}  // namespace
}  // namespace armored::sdk_test
