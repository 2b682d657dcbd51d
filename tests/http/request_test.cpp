// The dashboard's HTTP/1.1 request parser: what it accepts, and each kind
// of malformed, oversized, truncated or smuggling-shaped input it refuses,
// named by the RFC 9110/9112 section that decides it.
#include <gtest/gtest.h>

#include "http/http.h"

namespace armored::http {
namespace {

using Kind = Parsed::Kind;

Parsed parse(std::string_view s, const Limits& l = {}) { return parse_request(s, l); }

void expect_refused(std::string_view s, Refusal why, const Limits& l = {}) {
  auto p = parse(s, l);
  ASSERT_EQ(p.kind, Kind::kRefused) << s;
  EXPECT_EQ(p.refusal, why) << s << " -> " << refusal_name(p.refusal);
}

TEST(HttpRequest, ASimpleGetWithQueryAndHeaders) {
  const std::string req =
      "GET /api/devices?page=2&q=ward%207+bed HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nAuthorization: Bearer abc\r\n"
      "Accept: application/json\r\n\r\n";
  auto p = parse(req);
  ASSERT_EQ(p.kind, Kind::kRequest);
  EXPECT_EQ(p.consumed, req.size());
  EXPECT_EQ(p.request.method, "GET");
  EXPECT_EQ(p.request.path, "/api/devices");
  EXPECT_EQ(p.request.query.at("page"), "2");
  EXPECT_EQ(p.request.query.at("q"), "ward 7 bed");
  EXPECT_EQ(p.request.header("authorization"), "Bearer abc");
  EXPECT_TRUE(p.request.keep_alive);
}

TEST(HttpRequest, TruncatedAnywhereIsIncompleteNotAnError) {
  const std::string req = "GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
  for (std::size_t n = 0; n < req.size(); ++n) {
    EXPECT_EQ(parse(std::string_view(req).substr(0, n)).kind, Kind::kIncomplete) << n;
  }
}

TEST(HttpRequest, Rfc9112_9_3_PipelinedRequestsComeOneAtATime) {
  const std::string two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto first = parse(two);
  ASSERT_EQ(first.kind, Kind::kRequest);
  EXPECT_EQ(first.request.path, "/a");
  auto second = parse(std::string_view(two).substr(first.consumed));
  ASSERT_EQ(second.kind, Kind::kRequest);
  EXPECT_EQ(second.request.method, "HEAD");
  EXPECT_FALSE(second.request.keep_alive);
}

TEST(HttpRequest, Rfc9112_2_2_LeadingEmptyLinesAndBareLineFeeds) {
  auto p = parse("\r\nGET / HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(p.kind, Kind::kRequest);
  EXPECT_EQ(p.request.path, "/");
}

TEST(HttpRequest, Rfc9112_9_3_Http10ClosesUnlessAskedToKeepAlive) {
  auto p = parse("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.kind, Kind::kRequest);
  EXPECT_FALSE(p.request.keep_alive);
  p = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(p.kind, Kind::kRequest);
  EXPECT_TRUE(p.request.keep_alive);
}

TEST(HttpRequest, Rfc9112_3_MalformedRequestLines) {
  expect_refused("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kMalformedRequestLine);
  expect_refused("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", Refusal::kMalformedRequestLine);
  expect_refused("GET /\r\n\r\n", Refusal::kMalformedRequestLine);  // HTTP/0.9
  expect_refused("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kMalformedRequestLine);
  expect_refused("GET / HTTP/1.10\r\nHost: x\r\n\r\n", Refusal::kMalformedRequestLine);
  // Binary bytes are refused at once, before any line end arrives (a TLS
  // ClientHello, a scanner's probe).
  expect_refused(std::string("\x16\x03\x01\x02\x00\x01", 6), Refusal::kMalformedRequestLine);
  expect_refused("GET /\x01", Refusal::kMalformedRequestLine);
}

TEST(HttpRequest, Rfc9110_6_2_OnlyHttp1VersionsAreServed) {
  expect_refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Refusal::kVersionNotSupported);
  expect_refused("GET / HTTP/3.0\r\nHost: x\r\n\r\n", Refusal::kVersionNotSupported);
}

TEST(HttpRequest, Rfc9110_9_OnlyGetAndHead) {
  for (const char* m : {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get"}) {
    expect_refused(std::string(m) + " / HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kMethodNotAllowed);
  }
  EXPECT_EQ(refusal_status(Refusal::kMethodNotAllowed), 405);
}

TEST(HttpRequest, Rfc9112_3_2_OriginFormTargetsOnly) {
  expect_refused("GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET * HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET /a%2 HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  expect_refused("GET /?q=%0a HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
}

TEST(HttpRequest, Rfc3986_5_2_4_DotSegmentsAreRefusedNotResolved) {
  for (const char* t : {"/../etc/passwd", "/static/../../x", "/./a", "/%2e%2e/x", "/a/.."}) {
    expect_refused(std::string("GET ") + t + " HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget);
  }
  EXPECT_EQ(parse("GET /a..b/.c HTTP/1.1\r\nHost: x\r\n\r\n").kind, Kind::kRequest);
}

TEST(HttpRequest, Rfc9112_5_MalformedHeaders) {
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", Refusal::kMalformedHeader);
  expect_refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", Refusal::kMalformedHeader);  // 5.1: no space before ':'
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", Refusal::kMalformedHeader);  // obs-fold
  expect_refused(std::string("GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n", 36), Refusal::kMalformedHeader);
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", Refusal::kMalformedHeader);
}

TEST(HttpRequest, Rfc9112_3_2_ExactlyOneHostIn11) {
  expect_refused("GET / HTTP/1.1\r\n\r\n", Refusal::kDuplicateHost);
  expect_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Refusal::kDuplicateHost);
}

TEST(HttpRequest, Rfc9112_6_BodiesAreRefusedSoNothingCanBeSmuggled) {
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", Refusal::kBodyNotAllowed);
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Refusal::kBodyNotAllowed);
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", Refusal::kBodyNotAllowed);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").kind, Kind::kRequest);
}

TEST(HttpRequest, OversizedInputIsRefusedBeforeItIsComplete) {
  Limits l;
  l.max_request_line = 64;
  l.max_header_bytes = 128;
  l.max_headers = 3;
  l.max_query_params = 2;
  // No line end yet, but already too long: refused without waiting.
  expect_refused("GET /" + std::string(100, 'a'), Refusal::kRequestLineTooLong, l);
  expect_refused("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", Refusal::kRequestLineTooLong, l);
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nA: " + std::string(200, 'b'), Refusal::kHeadersTooLarge, l);
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", Refusal::kHeadersTooLarge, l);
  expect_refused("GET /?a=1&b=2&c=3 HTTP/1.1\r\nHost: x\r\n\r\n", Refusal::kBadTarget, l);
  EXPECT_EQ(refusal_status(Refusal::kRequestLineTooLong), 414);
  EXPECT_EQ(refusal_status(Refusal::kHeadersTooLarge), 431);
}

TEST(HttpResponse, CarriesLengthAndTheSecurityHeaders) {
  Response r;
  r.content_type = "application/json";
  r.body = "{}";
  const std::string out = serialize(r, true);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  for (const char* h : {"Content-Length: 2\r\n", "Cache-Control: no-store\r\n", "X-Content-Type-Options: nosniff\r\n",
                        "Content-Security-Policy: default-src 'self'", "Connection: keep-alive\r\n"}) {
    EXPECT_NE(out.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(out.substr(out.size() - 6), "\r\n\r\n{}");
  const std::string head = serialize(r, false, true);
  EXPECT_NE(head.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  Response nope;
  nope.status = 405;
  EXPECT_NE(serialize(nope, false).find("Allow: GET, HEAD\r\n"), std::string::npos);
}

}  // namespace
}  // namespace armored::http
