// The issue's validation matrix against the shipped schema: every case names
// the exact outcome, reason and detail, for text input (the CLI) and, where
// it applies, for typed values (what the device checks after decoding).

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "command/schema.h"
#include "command/validate.h"

namespace armored::command {
namespace {

struct Case {
  const char* label;
  const char* type;
  std::string name;
  std::vector<std::string> args;
  bool ok;
  Reason reason;       // when !ok
  std::string detail;  // when !ok
};

std::string nul_string() { return std::string("label=ab\0cd", 11); }

const std::vector<Case>& matrix() {
  static const std::vector<Case> cases = {
      // Accepted, including the bounds themselves.
      {"get_status", "wearable", "get_status", {}, true, {}, ""},
      {"interval lower bound", "wearable", "set_interval", {"seconds=5"}, true, {}, ""},
      {"interval upper bound", "wearable", "set_interval", {"seconds=3600"}, true, {}, ""},
      {"threshold lower bound", "wearable", "set_alert_threshold", {"bpm=40"}, true, {}, ""},
      {"threshold upper bound", "wearable", "set_alert_threshold", {"bpm=200"}, true, {}, ""},
      {"temp lower bound", "thermostat", "set_temp", {"degrees=10"}, true, {}, ""},
      {"temp upper bound", "thermostat", "set_temp", {"degrees=35"}, true, {}, ""},
      {"temp decimal", "thermostat", "set_temp", {"degrees=21.5"}, true, {}, ""},
      {"temp exponent", "thermostat", "set_temp", {"degrees=2.15e1"}, true, {}, ""},
      {"bool true", "thermostat", "set_fan", {"on=true"}, true, {}, ""},
      {"bool false", "thermostat", "set_fan", {"on=false"}, true, {}, ""},
      {"enum value", "wearable", "set_mode", {"mode=low_power"}, true, {}, ""},
      {"optional absent", "wearable", "reboot", {}, true, {}, ""},
      {"optional present", "wearable", "reboot", {"delay_s=600"}, true, {}, ""},
      {"string at max length", "wearable", "set_label", {"label=" + std::string(32, 'x')}, true, {}, ""},
      {"empty string", "wearable", "set_label", {"label="}, true, {}, ""},
      {"value containing '='", "wearable", "set_label", {"label=a=b"}, true, {}, ""},
      // Shell metacharacters and format specifiers: inert data where printable is allowed.
      {"shell metacharacters kept as data", "wearable", "set_label", {"label=$(reboot); rm -rf / | `id` && >x"}, true, {}, ""},
      {"format specifiers kept as data", "wearable", "set_label", {"label=%s%n%x%p{}"}, true, {}, ""},
      // Unknown things.
      {"unknown command", "wearable", "format_disk", {}, false, Reason::kUnknownCommand, "format_disk"},
      {"command of another type", "wearable", "set_temp", {"degrees=20"}, false, Reason::kUnknownCommand, "set_temp"},
      {"command name with shell", "wearable", "get_status;reboot", {}, false, Reason::kUnknownCommand, "get_status;reboot"},
      {"command name with NUL", "wearable", std::string("get_status\0x", 12), {}, false, Reason::kUnknownCommand, "get_status\\x00x"},
      {"unknown device type", "toaster", "get_status", {}, false, Reason::kUnknownDeviceType, "toaster"},
      // Parameters: missing, extra, duplicate, malformed.
      {"missing parameter", "wearable", "set_interval", {}, false, Reason::kMissingParameter, "seconds"},
      {"extra parameter", "wearable", "set_interval", {"seconds=60", "force=1"}, false, Reason::kUnknownParameter, "force"},
      {"parameter on a command without any", "wearable", "get_status", {"verbose=true"}, false, Reason::kUnknownParameter, "verbose"},
      {"duplicate parameter", "wearable", "set_interval", {"seconds=60", "seconds=61"}, false, Reason::kDuplicateParameter, "seconds"},
      {"duplicate identical parameter", "wearable", "set_interval", {"seconds=60", "seconds=60"}, false, Reason::kDuplicateParameter, "seconds"},
      {"no equals sign", "wearable", "set_interval", {"seconds"}, false, Reason::kMalformedArgument, "seconds"},
      {"empty key", "wearable", "set_interval", {"=60"}, false, Reason::kMalformedArgument, "=60"},
      {"key case differs", "wearable", "set_interval", {"Seconds=60"}, false, Reason::kUnknownParameter, "Seconds"},
      // Wrong types.
      {"string for int", "wearable", "set_interval", {"seconds=sixty"}, false, Reason::kWrongType, "seconds"},
      {"float for int", "wearable", "set_interval", {"seconds=60.0"}, false, Reason::kWrongType, "seconds"},
      {"exponent for int", "wearable", "set_interval", {"seconds=1e400"}, false, Reason::kWrongType, "seconds"},
      {"hex for int", "wearable", "set_interval", {"seconds=0x3c"}, false, Reason::kWrongType, "seconds"},
      {"plus sign for int", "wearable", "set_interval", {"seconds=+60"}, false, Reason::kWrongType, "seconds"},
      {"leading zero for int", "wearable", "set_interval", {"seconds=060"}, false, Reason::kWrongType, "seconds"},
      {"leading space for int", "wearable", "set_interval", {"seconds= 60"}, false, Reason::kWrongType, "seconds"},
      {"trailing junk for int", "wearable", "set_interval", {"seconds=60s"}, false, Reason::kWrongType, "seconds"},
      {"empty int", "wearable", "set_interval", {"seconds="}, false, Reason::kWrongType, "seconds"},
      {"minus zero int", "wearable", "reboot", {"delay_s=-0"}, false, Reason::kWrongType, "delay_s"},
      {"float for bool", "thermostat", "set_fan", {"on=1.0"}, false, Reason::kWrongType, "on"},
      {"int for bool", "thermostat", "set_fan", {"on=1"}, false, Reason::kWrongType, "on"},
      {"capitalised bool", "thermostat", "set_fan", {"on=True"}, false, Reason::kWrongType, "on"},
      {"yes for bool", "thermostat", "set_fan", {"on=yes"}, false, Reason::kWrongType, "on"},
      {"string for float", "thermostat", "set_temp", {"degrees=warm"}, false, Reason::kWrongType, "degrees"},
      {"hex float", "thermostat", "set_temp", {"degrees=0x1.4p4"}, false, Reason::kWrongType, "degrees"},
      {"float leading dot", "thermostat", "set_temp", {"degrees=.5"}, false, Reason::kWrongType, "degrees"},
      {"float trailing dot", "thermostat", "set_temp", {"degrees=20."}, false, Reason::kWrongType, "degrees"},
      {"float trailing junk", "thermostat", "set_temp", {"degrees=20.5C"}, false, Reason::kWrongType, "degrees"},
      {"float with comma", "thermostat", "set_temp", {"degrees=20,5"}, false, Reason::kWrongType, "degrees"},
      {"NaN", "thermostat", "set_temp", {"degrees=NaN"}, false, Reason::kNotFinite, "degrees"},
      {"nan", "thermostat", "set_temp", {"degrees=nan"}, false, Reason::kNotFinite, "degrees"},
      {"infinity", "thermostat", "set_temp", {"degrees=infinity"}, false, Reason::kNotFinite, "degrees"},
      {"-inf", "thermostat", "set_temp", {"degrees=-inf"}, false, Reason::kNotFinite, "degrees"},
      {"+Inf", "thermostat", "set_temp", {"degrees=+Inf"}, false, Reason::kNotFinite, "degrees"},
      {"1e400 for float", "thermostat", "set_temp", {"degrees=1e400"}, false, Reason::kOutOfRange, "degrees"},
      {"enum not declared", "wearable", "set_mode", {"mode=turbo"}, false, Reason::kNotAllowed, "mode"},
      {"enum wrong case", "wearable", "set_mode", {"mode=Normal"}, false, Reason::kNotAllowed, "mode"},
      {"enum with shell", "wearable", "set_mode", {"mode=normal;reboot"}, false, Reason::kNotAllowed, "mode"},
      {"enum format specifier", "wearable", "set_mode", {"mode=%s"}, false, Reason::kNotAllowed, "mode"},
      // Out of range at both ends and one step beyond.
      {"interval one below", "wearable", "set_interval", {"seconds=4"}, false, Reason::kOutOfRange, "seconds"},
      {"interval one above", "wearable", "set_interval", {"seconds=3601"}, false, Reason::kOutOfRange, "seconds"},
      {"interval zero", "wearable", "set_interval", {"seconds=0"}, false, Reason::kOutOfRange, "seconds"},
      {"interval negative", "wearable", "set_interval", {"seconds=-5"}, false, Reason::kOutOfRange, "seconds"},
      {"interval int64 max", "wearable", "set_interval", {"seconds=9223372036854775807"}, false, Reason::kOutOfRange, "seconds"},
      {"interval beyond 64 bits", "wearable", "set_interval", {"seconds=9223372036854775808"}, false, Reason::kOutOfRange, "seconds"},
      {"interval far beyond 64 bits", "wearable", "set_interval", {"seconds=-99999999999999999999999"}, false, Reason::kOutOfRange, "seconds"},
      {"threshold one below", "wearable", "set_alert_threshold", {"bpm=39"}, false, Reason::kOutOfRange, "bpm"},
      {"threshold one above", "wearable", "set_alert_threshold", {"bpm=201"}, false, Reason::kOutOfRange, "bpm"},
      {"temp one step below", "thermostat", "set_temp", {"degrees=9.999999"}, false, Reason::kOutOfRange, "degrees"},
      {"temp one step above", "thermostat", "set_temp", {"degrees=35.000001"}, false, Reason::kOutOfRange, "degrees"},
      {"temp one below", "thermostat", "set_temp", {"degrees=9"}, false, Reason::kOutOfRange, "degrees"},
      {"temp one above", "thermostat", "set_temp", {"degrees=36"}, false, Reason::kOutOfRange, "degrees"},
      {"delay one above", "wearable", "reboot", {"delay_s=601"}, false, Reason::kOutOfRange, "delay_s"},
      {"delay one below", "wearable", "reboot", {"delay_s=-1"}, false, Reason::kOutOfRange, "delay_s"},
      // Strings: length, NUL, control characters, non-ASCII.
      {"string one over max length", "wearable", "set_label", {"label=" + std::string(33, 'x')}, false, Reason::kTooLong, "label"},
      {"oversized string", "wearable", "set_label", {"label=" + std::string(1000, 'x')}, false, Reason::kTooLong, "label"},
      {"embedded NUL", "wearable", "set_label", {nul_string()}, false, Reason::kBadCharacter, "label"},
      {"newline", "wearable", "set_label", {"label=a\nb"}, false, Reason::kBadCharacter, "label"},
      {"escape sequence", "wearable", "set_label", {"label=\x1b[2J"}, false, Reason::kBadCharacter, "label"},
      {"DEL", "wearable", "set_label", {"label=a\x7f"}, false, Reason::kBadCharacter, "label"},
      {"non-ASCII", "wearable", "set_label", {"label=caf\xc3\xa9"}, false, Reason::kBadCharacter, "label"},
      {"invalid UTF-8", "wearable", "set_label", {"label=\xff\xfe"}, false, Reason::kBadCharacter, "label"},
      {"control char in int", "wearable", "set_interval", {"seconds=60\n"}, false, Reason::kBadCharacter, "seconds"},
      {"NUL in int", "wearable", "set_interval", {std::string("seconds=6\0", 10)}, false, Reason::kBadCharacter, "seconds"},
      {"tab in enum", "wearable", "set_mode", {"mode=normal\t"}, false, Reason::kBadCharacter, "mode"},
      // Input size limits.
      {"argument over 1024 bytes", "wearable", "set_label", {"label=" + std::string(1019, 'x')}, false, Reason::kTooLarge, "label=" + std::string(26, 'x') + "..."},
      {"33 arguments", "wearable", "set_interval", std::vector<std::string>(33, "seconds=60"), false, Reason::kTooLarge, "33 arguments"},
      // First problem wins, in argument order.
      {"extra before wrong type", "wearable", "set_interval", {"x=1", "seconds=abc"}, false, Reason::kUnknownParameter, "x"},
      {"wrong type before missing", "wearable", "set_alert_threshold", {"bpm=abc"}, false, Reason::kWrongType, "bpm"},
  };
  return cases;
}

class ValidationMatrix : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ValidationMatrix, ExactOutcomeAndReason) {
  const Case& c = matrix()[GetParam()];
  Validator v(Schema::builtin());
  const std::string& name = c.name;
  auto r = v.from_text(c.type, name, c.args);
  if (c.ok) {
    ASSERT_TRUE(r) << c.label << ": refused " << to_string(r.error());
    EXPECT_EQ(r->name, name);
    EXPECT_EQ(v.counters().total(), 0u);
    // What the cloud accepts the device accepts too.
    EXPECT_TRUE(v.check(c.type, *r)) << c.label;
    return;
  }
  ASSERT_FALSE(r) << c.label << ": accepted";
  EXPECT_EQ(to_string(r.error().reason), std::string(to_string(c.reason))) << c.label;
  EXPECT_EQ(r.error().detail, c.detail) << c.label;
  EXPECT_EQ(v.counters()[c.reason], 1u);
  EXPECT_EQ(v.counters().total(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Issue6, ValidationMatrix, ::testing::Range<std::size_t>(0, matrix().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& i) {
                           std::string n;
                           for (char ch : std::string(matrix()[i.param].label)) {
                             n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           }
                           return std::to_string(i.param) + "_" + n;
                         });

TEST(Validation, TypedValuesAreCanonicalAndExact) {
  Validator v(Schema::builtin());
  auto r = v.from_text("thermostat", "set_temp", std::vector<std::string>{"degrees=21.5"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->params.size(), 1u);
  EXPECT_EQ(r->params[0].value, Value::real(21.5));
  EXPECT_EQ(r->id, 0u);
  EXPECT_EQ(r->issued_at_ms, 0);
  auto label = v.from_text("wearable", "set_label", std::vector<std::string>{"label=$(reboot)"});
  ASSERT_TRUE(label);
  EXPECT_EQ(label->params[0].value.text, "$(reboot)");  // verbatim, inert
}

// What the device checks after decoding: values the text path cannot even
// produce (wrong kinds, NaN, out of range) are refused the same way.
TEST(Validation, TypedCheckRefusesWhatTheTextPathWould) {
  Validator v(Schema::builtin());
  const auto cmd = [](std::string name, std::vector<Param> p) {
    Command c;
    c.id = 1;
    c.name = std::move(name);
    c.params = std::move(p);
    return c;
  };
  const auto reason = [&](const char* type, const Command& c) {
    auto r = v.check(type, c);
    return r ? std::string("accepted") : to_string(r.error());
  };
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::integer(60)}})), "accepted");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::string("60")}})), "wrong_type (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::real(60)}})), "wrong_type (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::integer(4)}})), "out_of_range (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::integer(3601)}})), "out_of_range (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {})), "missing_parameter (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::integer(60)}, {"seconds", Value::integer(60)}})),
            "duplicate_parameter (seconds)");
  EXPECT_EQ(reason("wearable", cmd("set_interval", {{"seconds", Value::integer(60)}, {"x", Value::integer(1)}})),
            "unknown_parameter (x)");
  EXPECT_EQ(reason("thermostat", cmd("set_temp", {{"degrees", Value::real(std::nan(""))}})), "not_finite (degrees)");
  EXPECT_EQ(reason("thermostat", cmd("set_temp", {{"degrees", Value::real(INFINITY)}})), "not_finite (degrees)");
  EXPECT_EQ(reason("thermostat", cmd("set_temp", {{"degrees", Value::integer(20)}})), "wrong_type (degrees)");
  EXPECT_EQ(reason("thermostat", cmd("set_fan", {{"on", Value::real(1.0)}})), "wrong_type (on)");
  EXPECT_EQ(reason("wearable", cmd("set_mode", {{"mode", Value::string("turbo")}})), "not_allowed (mode)");
  EXPECT_EQ(reason("wearable", cmd("set_label", {{"label", Value::string(std::string("a\0b", 3))}})),
            "bad_character (label)");
  EXPECT_EQ(reason("wearable", cmd("set_label", {{"label", Value::string(std::string(33, 'x'))}})),
            "too_long (label)");
  EXPECT_EQ(reason("wearable", cmd("shutdown", {})), "unknown_command (shutdown)");
  EXPECT_EQ(reason("fridge", cmd("get_status", {})), "unknown_device_type (fridge)");
  EXPECT_EQ(v.counters().total(), 16u);
  EXPECT_EQ(v.counters()[Reason::kWrongType], 4u);
}

TEST(Validation, ReasonNamesAreStableAndRoundTrip) {
  // These names are on the wire and in the audit trail: changing one is a protocol change.
  const char* expected[kReasonCount] = {
      "too_large",     "malformed_argument", "unknown_device_type", "unknown_command", "unknown_parameter",
      "duplicate_parameter", "missing_parameter", "wrong_type", "not_finite", "out_of_range",
      "not_allowed",   "too_long",           "bad_character",       "malformed",       "stale",
      "future",        "replayed",           "rate_limited",        "unsupported",     "failed"};
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    const auto r = static_cast<Reason>(i);
    EXPECT_STREQ(to_string(r), expected[i]);
    EXPECT_EQ(parse_reason(expected[i]), r);
  }
  EXPECT_EQ(parse_reason("Stale"), std::nullopt);
  EXPECT_EQ(parse_reason(""), std::nullopt);
}

TEST(Validation, PrintableEscapesEverythingElse) {
  EXPECT_EQ(printable("ok"), "ok");
  EXPECT_EQ(printable(std::string("a\0b\n\x1b\\", 6)), "a\\x00b\\x0a\\x1b\\x5c");
  EXPECT_EQ(printable(std::string(40, 'x'), 4), "xxxx...");
}

}  // namespace
}  // namespace armored::command
