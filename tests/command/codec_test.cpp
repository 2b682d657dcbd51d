// The command and reply plaintexts: known bytes (docs/commands.md examples),
// round trips, and a typed error for every malformed, truncated, oversized
// or non-canonical input.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "cbor/writer.h"
#include "command/codec.h"
#include "common/hex.h"

namespace armored::command {
namespace {

const char* kSetIntervalHex =
    "d9d9f7a500010107026c7365745f696e74657276616c03a1677365636f6e6473183c041b0000018bcfe56800";
const char* kRateLimitedHex = "d9d9f7a4000201070501066c726174655f6c696d69746564";

Command set_interval() {
  Command c;
  c.id = 7;
  c.name = "set_interval";
  c.params = {{"seconds", Value::integer(60)}};
  c.issued_at_ms = 1'700'000'000'000;
  return c;
}

Bytes hex(const char* h) { return *from_hex(h); }

CodecErrc command_error(const Bytes& b) {
  auto r = decode_command(b);
  EXPECT_FALSE(r) << to_hex(b);
  return r ? CodecErrc::kBadValue : r.error().code;
}
CodecErrc reply_error(const Bytes& b) {
  auto r = decode_reply(b);
  EXPECT_FALSE(r) << to_hex(b);
  return r ? CodecErrc::kBadValue : r.error().code;
}

// Builds a tag-55799 map by hand, for inputs an encoder would never write.
Bytes message(const std::function<void(cbor::Writer&)>& body) {
  Bytes b;
  cbor::Writer w(b);
  w.tag(55799);
  body(w);
  return b;
}

TEST(CommandCodec, KnownBytesOfTheSpecExample) {
  auto e = encode_command(set_interval());
  ASSERT_TRUE(e);
  EXPECT_EQ(to_hex(*e), kSetIntervalHex);
  auto d = decode_command(hex(kSetIntervalHex));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, set_interval());

  Reply r;
  r.command_id = 7;
  r.outcome = Outcome::kRefused;
  r.reason = Reason::kRateLimited;
  auto re = encode_reply(r);
  ASSERT_TRUE(re);
  EXPECT_EQ(to_hex(*re), kRateLimitedHex);
  auto rd = decode_reply(hex(kRateLimitedHex));
  ASSERT_TRUE(rd);
  EXPECT_EQ(*rd, r);
}

TEST(CommandCodec, RoundTripsEveryValueKind) {
  Command c;
  c.id = UINT64_MAX;
  c.name = std::string(32, 'a');
  c.params = {{"b", Value::boolean(true)},
              {"f", Value::real(-21.25)},
              {"i", Value::integer(INT64_MIN)},
              {"j", Value::integer(INT64_MAX)},
              {"t", Value::string(std::string(256, '%'))},
              {"zz", Value::real(0.1)},
              {"aaa", Value::string("")}};
  c.issued_at_ms = INT64_MAX;
  auto e = encode_command(c);
  ASSERT_TRUE(e) << e.error().message;
  auto d = decode_command(*e);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, c);
  EXPECT_EQ(*encode_command(*d), *e);  // deterministic
}

TEST(CommandCodec, ReplyRoundTrips) {
  Reply accepted;
  accepted.command_id = 42;
  accepted.outcome = Outcome::kAccepted;
  accepted.result = {{"mode", Value::string("normal")}, {"uptime_s", Value::integer(12)}, {"interval_s", Value::integer(30)}};
  canonical_sort(accepted.result);
  for (const Reply& r : {accepted, Reply{0, Outcome::kRefused, Reason::kMalformed, {}},
                         Reply{9, Outcome::kAccepted, Reason::kMalformed, {}}}) {
    auto e = encode_reply(r);
    ASSERT_TRUE(e) << e.error().message;
    auto d = decode_reply(*e);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(*d, r);
    EXPECT_EQ(classify_uplink(*e), UplinkKind::kReply);
  }
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    Reply r{5, Outcome::kRefused, static_cast<Reason>(i), {}};
    auto d = decode_reply(*encode_reply(r));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, r.reason);
  }
}

TEST(CommandCodec, ClassifiesReadingsAndReplies) {
  Bytes reading(52, 0x69);  // a 2026 timestamp starts 0x69
  EXPECT_EQ(classify_uplink(reading), UplinkKind::kReading);
  EXPECT_EQ(classify_uplink(Bytes{0xd9, 0xd9}), UplinkKind::kReading);
  EXPECT_EQ(classify_uplink(Bytes{}), UplinkKind::kReading);
  EXPECT_EQ(classify_uplink(hex(kRateLimitedHex)), UplinkKind::kReply);
}

TEST(CommandCodec, EncoderRefusesWhatItCannotWriteCanonically) {
  Command c = set_interval();
  c.id = 0;
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kBadValue);
  c = set_interval();
  c.name = "Set";
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kBadValue);
  c.name = std::string(33, 'a');
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kTooLarge);
  c = set_interval();
  c.issued_at_ms = -1;
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kBadValue);
  c = set_interval();
  c.params = {{"b", Value::integer(1)}, {"a", Value::integer(1)}};
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kNonCanonical);
  c.params = {{"a", Value::integer(1)}, {"a", Value::integer(1)}};
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kNonCanonical);
  c.params = {{"a", Value::real(NAN)}};
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kBadValue);
  c.params = {{"a", Value::string(std::string(257, 'x'))}};
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kTooLarge);
  c.params.clear();
  for (int i = 0; i < 17; ++i) c.params.push_back({"p" + std::string(1, static_cast<char>('a' + i)), Value::integer(i)});
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kTooLarge);
  // Within every per-field limit but over 1024 bytes in total.
  c.params.clear();
  for (int i = 0; i < 5; ++i) c.params.push_back({std::string(1, static_cast<char>('a' + i)), Value::string(std::string(250, 'x'))});
  EXPECT_EQ(encode_command(c).error().code, CodecErrc::kTooLarge);

  Reply r{1, Outcome::kRefused, Reason::kStale, {{"x", Value::integer(1)}}};
  EXPECT_EQ(encode_reply(r).error().code, CodecErrc::kBadValue);
  r = Reply{0, Outcome::kAccepted, Reason::kStale, {}};
  EXPECT_EQ(encode_reply(r).error().code, CodecErrc::kBadValue);
  r = Reply{1, static_cast<Outcome>(2), Reason::kStale, {}};
  EXPECT_EQ(encode_reply(r).error().code, CodecErrc::kBadValue);
  r = Reply{1, Outcome::kRefused, static_cast<Reason>(200), {}};
  EXPECT_EQ(encode_reply(r).error().code, CodecErrc::kBadValue);
}

TEST(CommandCodec, EveryTruncationIsRefused) {
  const Bytes full = hex(kSetIntervalHex);
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode_command(cut);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().code, CodecErrc::kNotCbor) << n;
  }
  Bytes longer = full;
  longer.push_back(0x00);
  EXPECT_EQ(command_error(longer), CodecErrc::kNotCbor);  // trailing byte
}

TEST(CommandCodec, OversizedInputIsRefusedBeforeParsing) {
  Bytes big(kMaxMessageBytes + 1, 0);
  EXPECT_EQ(command_error(big), CodecErrc::kTooLarge);
  EXPECT_EQ(reply_error(big), CodecErrc::kTooLarge);
  // A text value over 256 bytes, inside a message under 1024.
  EXPECT_EQ(command_error(message([](cbor::Writer& w) {
              w.map(5).uint(0).uint(1).uint(1).uint(1).uint(2).tstr("x").uint(3).map(1).tstr("s").tstr(std::string(300, 'x'));
              w.uint(4).uint(0);
            })),
            CodecErrc::kTooLarge);
  // 17 parameters.
  EXPECT_EQ(command_error(message([](cbor::Writer& w) {
              w.map(5).uint(0).uint(1).uint(1).uint(1).uint(2).tstr("x").uint(3).map(17);
              for (int i = 0; i < 17; ++i) w.tstr(std::string("p") + static_cast<char>('a' + i)).uint(1);
              w.uint(4).uint(0);
            })),
            CodecErrc::kTooLarge);
  // Nested deeper than a value may be.
  EXPECT_EQ(command_error(message([](cbor::Writer& w) {
              w.map(5).uint(0).uint(1).uint(1).uint(1).uint(2).tstr("x").uint(3).map(1).tstr("a").array(1).uint(1);
              w.uint(4).uint(0);
            })),
            CodecErrc::kNotCbor);
}

// Writes a command map with the given entries in order (keys as given).
Bytes command_with(const std::function<void(cbor::Writer&)>& entries, std::size_t n) {
  return message([&](cbor::Writer& w) {
    w.map(n);
    entries(w);
  });
}

TEST(CommandCodec, StructuralErrorsAreTyped) {
  const auto base = [](cbor::Writer& w) { w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("get_status").uint(3).map(0); };
  // Valid reference.
  EXPECT_TRUE(decode_command(command_with([&](cbor::Writer& w) { base(w); w.uint(4).uint(5); }, 5)));
  // Not wrapped in the tag, or another tag.
  Bytes untagged;
  cbor::Writer(untagged).map(0);
  EXPECT_EQ(command_error(untagged), CodecErrc::kNoPrefix);
  Bytes other_tag;
  cbor::Writer(other_tag).tag(24).map(0);
  EXPECT_EQ(command_error(other_tag), CodecErrc::kNoPrefix);
  // A reading is not a command.
  EXPECT_EQ(command_error(Bytes(52, 0x69)), CodecErrc::kNotCbor);
  // Not a map inside the tag.
  EXPECT_EQ(command_error(message([](cbor::Writer& w) { w.array(0); })), CodecErrc::kWrongFieldType);
  // Missing each field.
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) { w.uint(1).uint(7); }, 1)), CodecErrc::kMissingField);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(2).tstr("a").uint(3).map(0).uint(4).uint(5);
            }, 4)),
            CodecErrc::kMissingField);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(3).map(0).uint(4).uint(5);
            }, 4)),
            CodecErrc::kMissingField);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("a").uint(4).uint(5);
            }, 4)),
            CodecErrc::kMissingField);
  EXPECT_EQ(command_error(command_with(base, 4)), CodecErrc::kMissingField);
  // Unknown key, text key, negative key.
  EXPECT_EQ(command_error(command_with([&](cbor::Writer& w) { base(w); w.uint(4).uint(5).uint(9).uint(0); }, 6)),
            CodecErrc::kUnknownField);
  EXPECT_EQ(command_error(command_with([&](cbor::Writer& w) { base(w); w.uint(4).uint(5).tstr("x").uint(0); }, 6)),
            CodecErrc::kUnknownField);
  EXPECT_EQ(command_error(command_with([&](cbor::Writer& w) { w.integer(-1).uint(0); base(w); w.uint(4).uint(5); }, 6)),
            CodecErrc::kUnknownField);
  // Keys out of order.
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(1).uint(7).uint(0).uint(1).uint(2).tstr("a").uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kNonCanonical);
  // Duplicate key.
  EXPECT_EQ(command_error(command_with([&](cbor::Writer& w) { base(w); w.uint(4).uint(5).uint(4).uint(5); }, 6)),
            CodecErrc::kNotCbor);
  // Wrong kinds and kinds of fields.
  EXPECT_EQ(command_error(hex(kRateLimitedHex)), CodecErrc::kWrongKind);
  EXPECT_EQ(reply_error(hex(kSetIntervalHex)), CodecErrc::kWrongKind);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) { w.uint(0).uint(3); }, 1)), CodecErrc::kBadValue);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) { w.uint(0).tstr("command"); }, 1)), CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).integer(-7).uint(2).tstr("a").uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(0).uint(2).tstr("a").uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kBadValue);  // id 0
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).bstr(as_bytes("a")).uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("rm -rf").uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kBadValue);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr(std::string(33, 'a')).uint(3).map(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kTooLarge);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("a").uint(3).array(0).uint(4).uint(5);
            }, 5)),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("a").uint(3).map(0).uint(4).integer(-5);
            }, 5)),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(command_with([](cbor::Writer& w) {
              w.uint(0).uint(1).uint(1).uint(7).uint(2).tstr("a").uint(3).map(0).uint(4).uint(UINT64_MAX);
            }, 5)),
            CodecErrc::kBadValue);
}

TEST(CommandCodec, ParameterErrorsAreTyped) {
  const auto with_params = [](const std::function<void(cbor::Writer&)>& params) {
    return message([&](cbor::Writer& w) {
      w.map(5).uint(0).uint(1).uint(1).uint(7).uint(2).tstr("a").uint(3);
      params(w);
      w.uint(4).uint(5);
    });
  };
  EXPECT_TRUE(decode_command(with_params([](cbor::Writer& w) { w.map(2).tstr("b").uint(1).tstr("aa").uint(2); })));
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(2).tstr("aa").uint(1).tstr("b").uint(2); })),
            CodecErrc::kNonCanonical);  // longer name first
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(2).tstr("b").uint(1).tstr("a").uint(2); })),
            CodecErrc::kNonCanonical);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).uint(1).uint(1); })), CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("A").uint(1); })), CodecErrc::kBadValue);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").null(); })), CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").bstr(as_bytes("x")); })),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").uint(UINT64_MAX); })), CodecErrc::kBadValue);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").nint(UINT64_MAX); })), CodecErrc::kBadValue);
  // Floats: binary64 only, finite only.
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").raw(*from_hex("f93e00")); })),
            CodecErrc::kNotCbor);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").raw(*from_hex("fb7ff8000000000000")); })),
            CodecErrc::kNotCbor);
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").raw(*from_hex("fb7ff0000000000000")); })),
            CodecErrc::kNotCbor);
  // Invalid UTF-8 in a text value.
  EXPECT_EQ(command_error(with_params([](cbor::Writer& w) { w.map(1).tstr("a").raw(*from_hex("62c328")); })),
            CodecErrc::kNotCbor);
}

TEST(CommandCodec, ReplyErrorsAreTyped) {
  const auto reply = [](const std::function<void(cbor::Writer&)>& e, std::size_t n) {
    return message([&](cbor::Writer& w) {
      w.map(n);
      e(w);
    });
  };
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(2); }, 3)),
            CodecErrc::kBadValue);  // outcome 2
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(1); }, 3)),
            CodecErrc::kMissingField);  // refusal without reason
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(1).uint(6).tstr("because"); }, 4)),
            CodecErrc::kBadValue);  // unknown reason
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(1).uint(6).uint(3); }, 4)),
            CodecErrc::kWrongFieldType);
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(0).uint(6).tstr("stale"); }, 4)),
            CodecErrc::kBadValue);  // reason on an acceptance
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(0).uint(7).map(0); }, 4)),
            CodecErrc::kNonCanonical);  // empty result written
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) {
              w.uint(0).uint(2).uint(1).uint(1).uint(5).uint(1).uint(6).tstr("stale").uint(7).map(1).tstr("a").uint(1);
            }, 5)),
            CodecErrc::kBadValue);  // result on a refusal
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(0).uint(5).uint(0); }, 3)),
            CodecErrc::kBadValue);  // accepted id 0
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1).uint(4).uint(0).uint(5).uint(0); }, 4)),
            CodecErrc::kUnknownField);  // issued_at belongs to commands
  EXPECT_EQ(reply_error(reply([](cbor::Writer& w) { w.uint(0).uint(2).uint(1).uint(1); }, 2)), CodecErrc::kMissingField);
}

TEST(CommandCodec, ErrorNamesAreDistinct) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kCodecErrcCount; ++i) names.insert(to_string(static_cast<CodecErrc>(i)));
  EXPECT_EQ(names.size(), kCodecErrcCount);
}

}  // namespace
}  // namespace armored::command
