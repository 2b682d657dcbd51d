// The admin protocol without sockets: framing, limits, typed errors, counters.

#include <gtest/gtest.h>

#include "cloud/admin_protocol.h"

namespace armored::cloud {
namespace {

using nlohmann::json;

Bytes raw_frame(std::string_view text) {
  const auto n = static_cast<std::uint32_t>(text.size());
  Bytes out{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
            static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

// Every response frame in the session's output.
std::vector<json> responses(const AdminSession& s) {
  std::vector<json> out;
  ByteSpan rest = s.output();
  for (;;) {
    std::size_t used = 0;
    auto r = parse_admin_response(rest, 1 << 20, used);
    EXPECT_TRUE(r.has_value());
    if (!r || !*r) break;
    out.push_back(**r);
    rest = rest.subspan(used);
  }
  EXPECT_TRUE(rest.empty());
  return out;
}

struct Fixture {
  AdminCounters counters;
  std::vector<AdminRequest> seen;
  AdminSession session;
  explicit Fixture(AdminLimits limits = {})
      : session(limits, [this](const AdminRequest& r) {
          seen.push_back(r);
          return admin_ok({{"device", r.device}});
        }, counters) {}
};

AdminErrc parse_error(std::string_view text) {
  auto r = parse_admin_request(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? AdminErrc::kInternal : r.error().code;
}

TEST(AdminRequest, SendWithTypedParams) {
  auto r = parse_admin_request(
      R"({"v":1,"op":"send","device":"wearable-0001","command":"set_interval","params":{"seconds":60,"x":1.5,"b":true,"s":"a"}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->op, AdminRequest::Op::kSend);
  EXPECT_EQ(r->device, "wearable-0001");
  EXPECT_EQ(r->command, "set_interval");
  EXPECT_TRUE(r->params["seconds"].is_number_integer());
  EXPECT_TRUE(r->params["x"].is_number_float());
  EXPECT_TRUE(r->params["b"].is_boolean());
}

TEST(AdminRequest, StatusWithLimit) {
  auto r = parse_admin_request(R"({"v":1,"op":"status","device":"d1","limit":5})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->op, AdminRequest::Op::kStatus);
  EXPECT_EQ(r->limit, 5u);
}

TEST(AdminRequest, MalformedJsonIsBadJson) {
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send")"), AdminErrc::kBadJson);
  EXPECT_EQ(parse_error("[1,2]"), AdminErrc::kBadJson);
  EXPECT_EQ(parse_error("\"text\""), AdminErrc::kBadJson);
  EXPECT_EQ(parse_error(std::string("{\"v\":1,\"op\":\"status\",\"device\":\"d\xff\"}")), AdminErrc::kBadJson);
  EXPECT_EQ(parse_error(std::string(100, '[') + std::string(100, ']')), AdminErrc::kBadJson);
}

TEST(AdminRequest, FieldErrorsAreBadRequest) {
  EXPECT_EQ(parse_error(R"({"op":"status","device":"d"})"), AdminErrc::kBadRequest);           // no v
  EXPECT_EQ(parse_error(R"({"v":"1","op":"status","device":"d"})"), AdminErrc::kBadRequest);   // v as text
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status"})"), AdminErrc::kBadRequest);                  // no device
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":7})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":"a b"})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"x({"v":1,"op":"status","device":"$(reboot)"})x"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":"d","extra":1})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":"d","limit":0})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":"d","limit":1001})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d"})"), AdminErrc::kBadRequest);  // no command
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d","command":"c","params":[1]})"), AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d","command":"c","params":{"a":[1]}})"),
            AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d","command":"c","params":{"a":null}})"),
            AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d","command":""})"), AdminErrc::kBadRequest);
}

TEST(AdminRequest, DuplicateKeysAreRefusedNotLastWins) {
  EXPECT_EQ(parse_error(R"({"v":1,"op":"send","device":"d","command":"set_interval","params":{"seconds":5,"seconds":99999}})"),
            AdminErrc::kBadRequest);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"status","device":"a","device":"b"})"), AdminErrc::kBadRequest);
}

TEST(AdminRequest, VersionAndOp) {
  EXPECT_EQ(parse_error(R"({"v":2,"op":"status","device":"d"})"), AdminErrc::kUnsupportedVersion);
  EXPECT_EQ(parse_error(R"({"v":1,"op":"shell","device":"d"})"), AdminErrc::kUnknownOp);
}

TEST(AdminSession, RequestsInOneReadAndSplitAcrossReads) {
  Fixture f;
  Bytes a = raw_frame(R"({"v":1,"op":"status","device":"d1"})");
  Bytes b = raw_frame(R"({"v":1,"op":"status","device":"d2"})");
  Bytes both = a;
  both.insert(both.end(), b.begin(), b.end());
  // Byte by byte: framing must not depend on read boundaries.
  for (std::uint8_t byte : both) f.session.receive(ByteSpan(&byte, 1));
  auto rs = responses(f.session);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0]["device"], "d1");
  EXPECT_EQ(rs[1]["device"], "d2");
  EXPECT_EQ(f.counters.requests, 2u);
  EXPECT_EQ(f.counters.succeeded, 2u);
  EXPECT_FALSE(f.session.closing());
}

TEST(AdminSession, OversizedLengthAnsweredThenClosed) {
  AdminLimits lim;
  lim.max_request_bytes = 1024;
  Fixture f(lim);
  Bytes big = raw_frame(std::string(1025, ' '));
  f.session.receive(ByteSpan(big).first(4));  // the length alone decides
  auto rs = responses(f.session);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["ok"], false);
  EXPECT_EQ(rs[0]["error"], "oversized");
  EXPECT_TRUE(f.session.closing());
  EXPECT_EQ(f.counters.errors_for(AdminErrc::kOversized), 1u);
  EXPECT_TRUE(f.seen.empty());
  // Nothing after the refusal is read.
  Bytes ok = raw_frame(R"({"v":1,"op":"status","device":"d1"})");
  f.session.receive(ok);
  EXPECT_TRUE(f.seen.empty());
}

TEST(AdminSession, ZeroLengthFrameIsRefused) {
  Fixture f;
  Bytes zero{0, 0, 0, 0};
  f.session.receive(zero);
  EXPECT_TRUE(f.session.closing());
  EXPECT_EQ(f.counters.errors_for(AdminErrc::kOversized), 1u);
}

TEST(AdminSession, ExactlyMaxSizeIsAccepted) {
  AdminLimits lim;
  lim.max_request_bytes = 256;
  Fixture f(lim);
  std::string body = R"({"v":1,"op":"status","device":"d1"})";
  body += std::string(256 - body.size(), ' ');  // JSON allows trailing whitespace
  f.session.receive(raw_frame(body));
  EXPECT_EQ(f.counters.succeeded, 1u);
  EXPECT_FALSE(f.session.closing());
}

TEST(AdminSession, TruncatedFrameCountedAtEndOfInput) {
  Fixture f;
  Bytes a = raw_frame(R"({"v":1,"op":"status","device":"d1"})");
  f.session.receive(ByteSpan(a).first(a.size() - 3));
  EXPECT_TRUE(f.session.mid_frame());
  f.session.end_of_input();
  EXPECT_EQ(f.counters.truncated, 1u);
  EXPECT_EQ(f.counters.requests, 0u);
  EXPECT_TRUE(f.seen.empty());
}

TEST(AdminSession, MalformedRequestAnsweredConnectionStaysUsable) {
  Fixture f;
  f.session.receive(raw_frame("{not json"));
  f.session.receive(raw_frame(R"({"v":1,"op":"status","device":"d1"})"));
  auto rs = responses(f.session);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0]["error"], "bad_json");
  EXPECT_EQ(rs[1]["ok"], true);
  EXPECT_EQ(f.counters.errors_for(AdminErrc::kBadJson), 1u);
  EXPECT_EQ(f.counters.succeeded, 1u);
}

TEST(AdminSession, RequestsPerConnectionLimit) {
  AdminLimits lim;
  lim.max_requests_per_connection = 3;
  Fixture f(lim);
  for (int i = 0; i < 5; ++i) f.session.receive(raw_frame(R"({"v":1,"op":"status","device":"d1"})"));
  auto rs = responses(f.session);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[3]["error"], "too_many_requests");
  EXPECT_EQ(f.seen.size(), 3u);
  EXPECT_TRUE(f.session.closing());
  EXPECT_EQ(f.counters.errors_for(AdminErrc::kTooManyRequests), 1u);
}

TEST(AdminSession, HandlerErrorsAreCountedByCode) {
  AdminCounters counters;
  AdminSession s({}, [](const AdminRequest&) {
    return admin_error({AdminErrc::kInvalidCommand, "seconds: 4 is below 5"});
  }, counters);
  s.receive(raw_frame(R"({"v":1,"op":"send","device":"d1","command":"set_interval","params":{"seconds":4}})"));
  auto rs = responses(s);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["error"], "invalid_command");
  EXPECT_EQ(rs[0]["message"], "seconds: 4 is below 5");
  EXPECT_EQ(counters.errors_for(AdminErrc::kInvalidCommand), 1u);
}

TEST(AdminResponse, BadLengthAndBadJson) {
  std::size_t used = 0;
  Bytes zero{0, 0, 0, 0};
  EXPECT_FALSE(parse_admin_response(zero, 1024, used).has_value());
  Bytes big = raw_frame(std::string(2000, ' '));
  EXPECT_FALSE(parse_admin_response(big, 1024, used).has_value());
  EXPECT_FALSE(parse_admin_response(raw_frame("[]"), 1024, used).has_value());
  auto partial = parse_admin_response(ByteSpan(raw_frame("{}")).first(5), 1024, used);
  ASSERT_TRUE(partial.has_value());
  EXPECT_FALSE(partial->has_value());
}

TEST(AdminResponse, InvalidUtf8InAnEchoedStringIsReplacedNotThrown) {
  json j = admin_error({AdminErrc::kInvalidCommand, std::string("bad \xff value")});
  Bytes f = frame_json(j);
  std::size_t used = 0;
  auto r = parse_admin_response(f, 1024, used);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(used, f.size());
}

}  // namespace
}  // namespace armored::cloud
