// Command and reply plaintexts (codec.h; specification docs/commands.md).
// The decoder accepts exactly what the encoder writes: one canonical form.

#include "command/codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cbor/decoder.h"
#include "cbor/writer.h"

namespace armored::command {

namespace {

constexpr std::uint64_t kTagSelfDescribed = 55799;
constexpr std::uint64_t kKindCommand = 1, kKindReply = 2;
// Map keys.
constexpr std::uint64_t kKeyKind = 0, kKeyId = 1, kKeyName = 2, kKeyParams = 3, kKeyIssuedAt = 4,
                        kKeyOutcome = 5, kKeyReason = 6, kKeyResult = 7;

Unexpected<CodecError> codec_fail(CodecErrc c, const char* m) { return {CodecError{c, m}}; }

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxWireName || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// ---- encoding ----

Result<void, CodecError> check_params(const std::vector<Param>& params) {
  if (params.size() > kMaxWireParams) return codec_fail(CodecErrc::kTooLarge, "too many parameters");
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    if (p.name.size() > kMaxWireName) return codec_fail(CodecErrc::kTooLarge, "parameter name too long");
    if (!valid_name(p.name)) return codec_fail(CodecErrc::kBadValue, "bad parameter name");
    if (i > 0 && !canonical_less(params[i - 1].name, p.name)) {
      return codec_fail(CodecErrc::kNonCanonical, "parameters not in canonical order, or repeated");
    }
    if (p.value.kind == Value::Kind::kText && p.value.text.size() > kMaxWireText) {
      return codec_fail(CodecErrc::kTooLarge, "text value too long");
    }
    if (p.value.kind == Value::Kind::kFloat && !std::isfinite(p.value.f)) {
      return codec_fail(CodecErrc::kBadValue, "float not finite");
    }
  }
  return {};
}

void write_params(cbor::Writer& w, const std::vector<Param>& params) {
  w.map(params.size());
  for (const Param& p : params) {
    w.tstr(p.name);
    switch (p.value.kind) {
      case Value::Kind::kInt: w.integer(p.value.i); break;
      case Value::Kind::kFloat: w.float64(p.value.f); break;
      case Value::Kind::kBool: w.boolean(p.value.b); break;
      case Value::Kind::kText: w.tstr(p.value.text); break;
    }
  }
}

Result<Bytes, CodecError> finish(Bytes out) {
  if (out.size() > kMaxMessageBytes) return codec_fail(CodecErrc::kTooLarge, "message over 1024 bytes");
  return out;
}

// ---- decoding ----

const cbor::Limits& limits() {
  static const cbor::Limits l = [] {
    cbor::Limits x;
    x.max_depth = 3;  // tag -> map -> params map -> value
    x.max_items = 2 + 2 * 8 + 2 * kMaxWireParams + 8;
    x.max_string = kMaxWireText;
    x.allow_float64 = true;
    return x;
  }();
  return l;
}

// Deterministic CBOR: map keys strictly increasing by their encoded bytes.
bool encoded_less(ByteSpan a, ByteSpan b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

// The tag-55799-wrapped map with uint keys in canonical order; checks the kind.
Result<const cbor::Item*, CodecError> open_message(const cbor::Item& root, std::uint64_t kind) {
  if (root.type != cbor::Type::kTag || root.uint_value != kTagSelfDescribed) {
    return codec_fail(CodecErrc::kNoPrefix, "not wrapped in tag 55799");
  }
  const cbor::Item& m = root.children[0];
  if (m.type != cbor::Type::kMap) return codec_fail(CodecErrc::kWrongFieldType, "message is not a map");
  for (std::size_t i = 0; i < m.children.size(); i += 2) {
    if (!m.children[i].is_uint()) return codec_fail(CodecErrc::kUnknownField, "map key is not an unsigned integer");
    if (i > 0 && !encoded_less(m.children[i - 2].encoded, m.children[i].encoded)) {
      return codec_fail(CodecErrc::kNonCanonical, "map keys out of order");
    }
  }
  const cbor::Item* k = m.find(static_cast<std::int64_t>(kKeyKind));
  if (!k) return codec_fail(CodecErrc::kMissingField, "kind (key 0) missing");
  if (!k->is_uint()) return codec_fail(CodecErrc::kWrongFieldType, "kind is not an unsigned integer");
  if (k->uint_value != kKindCommand && k->uint_value != kKindReply) {
    return codec_fail(CodecErrc::kBadValue, "unknown kind");
  }
  if (k->uint_value != kind) return codec_fail(CodecErrc::kWrongKind, kind == kKindCommand ? "a reply, not a command" : "a command, not a reply");
  return &m;
}

Result<void, CodecError> only_keys(const cbor::Item& m, std::initializer_list<std::uint64_t> allowed) {
  for (std::size_t i = 0; i < m.children.size(); i += 2) {
    if (std::find(allowed.begin(), allowed.end(), m.children[i].uint_value) == allowed.end()) {
      return codec_fail(CodecErrc::kUnknownField, "unknown map key");
    }
  }
  return {};
}

Result<std::uint64_t, CodecError> get_uint(const cbor::Item& m, std::uint64_t key, const char* missing) {
  const cbor::Item* v = m.find(static_cast<std::int64_t>(key));
  if (!v) return codec_fail(CodecErrc::kMissingField, missing);
  if (!v->is_uint()) return codec_fail(CodecErrc::kWrongFieldType, "expected an unsigned integer");
  return v->uint_value;
}

Result<std::vector<Param>, CodecError> read_params(const cbor::Item& m) {
  if (m.type != cbor::Type::kMap) return codec_fail(CodecErrc::kWrongFieldType, "parameters are not a map");
  if (m.map_size() > kMaxWireParams) return codec_fail(CodecErrc::kTooLarge, "too many parameters");
  std::vector<Param> out;
  out.reserve(m.map_size());
  for (std::size_t i = 0; i < m.children.size(); i += 2) {
    const cbor::Item& k = m.children[i];
    const cbor::Item& v = m.children[i + 1];
    if (k.type != cbor::Type::kTstr) return codec_fail(CodecErrc::kWrongFieldType, "parameter name is not text");
    if (k.bytes.size() > kMaxWireName) return codec_fail(CodecErrc::kTooLarge, "parameter name too long");
    if (!valid_name(k.text())) return codec_fail(CodecErrc::kBadValue, "bad parameter name");
    if (i > 0 && !encoded_less(m.children[i - 2].encoded, k.encoded)) {
      return codec_fail(CodecErrc::kNonCanonical, "parameters out of order");
    }
    Param p{std::string(k.text()), {}};
    switch (v.type) {
      case cbor::Type::kUint:
      case cbor::Type::kNint:
        if (v.uint_value > static_cast<std::uint64_t>(INT64_MAX)) {
          return codec_fail(CodecErrc::kBadValue, "integer beyond 64-bit signed");
        }
        p.value = Value::integer(v.int_value());
        break;
      case cbor::Type::kFloat64: p.value = Value::real(v.float_value); break;
      case cbor::Type::kBool: p.value = Value::boolean(v.uint_value != 0); break;
      case cbor::Type::kTstr: p.value = Value::string(std::string(v.text())); break;
      default: return codec_fail(CodecErrc::kWrongFieldType, "value is not int, float, bool or text");
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<cbor::Item, CodecError> parse(ByteSpan plaintext) {
  if (plaintext.size() > kMaxMessageBytes) return codec_fail(CodecErrc::kTooLarge, "message over 1024 bytes");
  auto root = cbor::decode(plaintext, limits());
  if (!root) {
    if (root.error() == cbor::DecodeError::kTooLarge) return codec_fail(CodecErrc::kTooLarge, "CBOR item over the limits");
    return codec_fail(CodecErrc::kNotCbor, cbor::to_string(root.error()));
  }
  return std::move(*root);
}

}  // namespace

const char* to_string(CodecErrc c) {
  switch (c) {
    case CodecErrc::kTooLarge: return "too_large";
    case CodecErrc::kNotCbor: return "not_cbor";
    case CodecErrc::kNoPrefix: return "no_prefix";
    case CodecErrc::kWrongKind: return "wrong_kind";
    case CodecErrc::kMissingField: return "missing_field";
    case CodecErrc::kUnknownField: return "unknown_field";
    case CodecErrc::kWrongFieldType: return "wrong_field_type";
    case CodecErrc::kBadValue: return "bad_value";
    case CodecErrc::kNonCanonical: return "non_canonical";
  }
  return "unknown";
}

Result<Bytes, CodecError> encode_command(const Command& c) {
  if (c.id == 0) return codec_fail(CodecErrc::kBadValue, "command id 0");
  if (c.name.size() > kMaxWireName) return codec_fail(CodecErrc::kTooLarge, "command name too long");
  if (!valid_name(c.name)) return codec_fail(CodecErrc::kBadValue, "bad command name");
  if (c.issued_at_ms < 0) return codec_fail(CodecErrc::kBadValue, "issued_at before 1970");
  ARMORED_TRY(check_params(c.params));
  Bytes out;
  out.reserve(64);
  cbor::Writer w(out);
  w.tag(kTagSelfDescribed).map(5);
  w.uint(kKeyKind).uint(kKindCommand);
  w.uint(kKeyId).uint(c.id);
  w.uint(kKeyName).tstr(c.name);
  w.uint(kKeyParams);
  write_params(w, c.params);
  w.uint(kKeyIssuedAt).uint(static_cast<std::uint64_t>(c.issued_at_ms));
  return finish(std::move(out));
}

Result<Command, CodecError> decode_command(ByteSpan plaintext) {
  auto root = parse(plaintext);
  if (!root) return unexpected(root.error());
  auto m = open_message(*root, kKindCommand);
  if (!m) return unexpected(m.error());
  const cbor::Item& map = **m;
  ARMORED_TRY(only_keys(map, {kKeyKind, kKeyId, kKeyName, kKeyParams, kKeyIssuedAt}));
  Command c;
  auto id = get_uint(map, kKeyId, "id (key 1) missing");
  if (!id) return unexpected(id.error());
  if (*id == 0) return codec_fail(CodecErrc::kBadValue, "command id 0");
  c.id = *id;
  const cbor::Item* name = map.find(static_cast<std::int64_t>(kKeyName));
  if (!name) return codec_fail(CodecErrc::kMissingField, "name (key 2) missing");
  if (name->type != cbor::Type::kTstr) return codec_fail(CodecErrc::kWrongFieldType, "name is not text");
  if (name->bytes.size() > kMaxWireName) return codec_fail(CodecErrc::kTooLarge, "command name too long");
  if (!valid_name(name->text())) return codec_fail(CodecErrc::kBadValue, "bad command name");
  c.name = std::string(name->text());
  const cbor::Item* params = map.find(static_cast<std::int64_t>(kKeyParams));
  if (!params) return codec_fail(CodecErrc::kMissingField, "params (key 3) missing");
  auto p = read_params(*params);
  if (!p) return unexpected(p.error());
  c.params = std::move(*p);
  auto at = get_uint(map, kKeyIssuedAt, "issued_at (key 4) missing");
  if (!at) return unexpected(at.error());
  if (*at > static_cast<std::uint64_t>(INT64_MAX)) return codec_fail(CodecErrc::kBadValue, "issued_at too large");
  c.issued_at_ms = static_cast<std::int64_t>(*at);
  return c;
}

Result<Bytes, CodecError> encode_reply(const Reply& r) {
  const bool accepted = r.outcome == Outcome::kAccepted;
  if (accepted && r.command_id == 0) return codec_fail(CodecErrc::kBadValue, "accepted reply with id 0");
  if (!accepted && !r.result.empty()) return codec_fail(CodecErrc::kBadValue, "result on a refusal");
  if (r.outcome != Outcome::kAccepted && r.outcome != Outcome::kRefused) {
    return codec_fail(CodecErrc::kBadValue, "unknown outcome");
  }
  if (static_cast<std::size_t>(r.reason) >= kReasonCount) return codec_fail(CodecErrc::kBadValue, "unknown reason");
  ARMORED_TRY(check_params(r.result));
  Bytes out;
  out.reserve(64);
  cbor::Writer w(out);
  const bool has_result = accepted && !r.result.empty();
  w.tag(kTagSelfDescribed).map(has_result || !accepted ? 4 : 3);
  w.uint(kKeyKind).uint(kKindReply);
  w.uint(kKeyId).uint(r.command_id);
  w.uint(kKeyOutcome).uint(static_cast<std::uint64_t>(r.outcome));
  if (!accepted) w.uint(kKeyReason).tstr(to_string(r.reason));
  if (has_result) {
    w.uint(kKeyResult);
    write_params(w, r.result);
  }
  return finish(std::move(out));
}

Result<Reply, CodecError> decode_reply(ByteSpan plaintext) {
  auto root = parse(plaintext);
  if (!root) return unexpected(root.error());
  auto m = open_message(*root, kKindReply);
  if (!m) return unexpected(m.error());
  const cbor::Item& map = **m;
  ARMORED_TRY(only_keys(map, {kKeyKind, kKeyId, kKeyOutcome, kKeyReason, kKeyResult}));
  Reply r;
  auto id = get_uint(map, kKeyId, "id (key 1) missing");
  if (!id) return unexpected(id.error());
  r.command_id = *id;
  auto outcome = get_uint(map, kKeyOutcome, "outcome (key 5) missing");
  if (!outcome) return unexpected(outcome.error());
  if (*outcome > 1) return codec_fail(CodecErrc::kBadValue, "unknown outcome");
  r.outcome = static_cast<Outcome>(*outcome);
  const cbor::Item* reason = map.find(static_cast<std::int64_t>(kKeyReason));
  const cbor::Item* result = map.find(static_cast<std::int64_t>(kKeyResult));
  if (r.outcome == Outcome::kAccepted) {
    if (r.command_id == 0) return codec_fail(CodecErrc::kBadValue, "accepted reply with id 0");
    if (reason) return codec_fail(CodecErrc::kBadValue, "reason on an acceptance");
    if (result) {
      auto p = read_params(*result);
      if (!p) return unexpected(p.error());
      if (p->empty()) return codec_fail(CodecErrc::kNonCanonical, "empty result is omitted, not sent");
      r.result = std::move(*p);
    }
    return r;
  }
  if (result) return codec_fail(CodecErrc::kBadValue, "result on a refusal");
  if (!reason) return codec_fail(CodecErrc::kMissingField, "reason (key 6) missing on a refusal");
  if (reason->type != cbor::Type::kTstr) return codec_fail(CodecErrc::kWrongFieldType, "reason is not text");
  auto code = parse_reason(reason->text());
  if (!code) return codec_fail(CodecErrc::kBadValue, "unknown reason");
  r.reason = *code;
  return r;
}

UplinkKind classify_uplink(ByteSpan plaintext) {
  if (plaintext.size() >= sizeof kMessagePrefix &&
      std::memcmp(plaintext.data(), kMessagePrefix, sizeof kMessagePrefix) == 0) {
    return UplinkKind::kReply;
  }
  return UplinkKind::kReading;
}

}  // namespace armored::command
