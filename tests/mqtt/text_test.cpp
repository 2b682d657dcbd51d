// UTF-8 strings (MQTT 3.1.1 section 1.5.3), topic names and filters and
// matching (section 4.7).
#include "mqtt/text.h"

#include "test_util.h"

namespace armored::mqtt {
namespace {

ErrorCode utf8_code(std::string_view s) {
  auto r = validate_utf8(s);
  return r ? ErrorCode::kCount : r.error().code;
}

TEST(MqttUtf8, AcceptsWellFormedStringsIncludingTheSpecExample) {
  EXPECT_TRUE(validate_utf8("").has_value());
  EXPECT_TRUE(validate_utf8("armored/v1/gw-1/up").has_value());
  // Section 1.5.3.1 example: "A" U+2A6D4 is 41 F0 AA 9B 94.
  EXPECT_TRUE(validate_utf8("A\xF0\xAA\x9B\x94").has_value());
  EXPECT_TRUE(validate_utf8("\xC3\xA9\xE2\x82\xAC\xF4\x8F\xBF\xBF").has_value());  // é € U+10FFFF
}

TEST(MqttUtf8, BomIsKeptNotStripped_MQTT_1_5_3_3) {
  EXPECT_TRUE(validate_utf8("\xEF\xBB\xBF" "a").has_value());
}

TEST(MqttUtf8, RejectsNullCharacter_MQTT_1_5_3_2) {
  EXPECT_EQ(utf8_code(std::string_view("a\0b", 3)), ErrorCode::kInvalidUtf8);
}

TEST(MqttUtf8, RejectsSurrogates_MQTT_1_5_3_1) {
  EXPECT_EQ(utf8_code("\xED\xA0\x80"), ErrorCode::kInvalidUtf8);  // U+D800
  EXPECT_EQ(utf8_code("\xED\xBF\xBF"), ErrorCode::kInvalidUtf8);  // U+DFFF
}

TEST(MqttUtf8, RejectsIllFormedSequences_MQTT_1_5_3_1) {
  EXPECT_EQ(utf8_code("\xC0\xAF"), ErrorCode::kInvalidUtf8);          // overlong '/'
  EXPECT_EQ(utf8_code("\xE0\x80\xAF"), ErrorCode::kInvalidUtf8);      // overlong 3-byte
  EXPECT_EQ(utf8_code("\xF0\x80\x80\xAF"), ErrorCode::kInvalidUtf8);  // overlong 4-byte
  EXPECT_EQ(utf8_code("\xF4\x90\x80\x80"), ErrorCode::kInvalidUtf8);  // above U+10FFFF
  EXPECT_EQ(utf8_code("\x80"), ErrorCode::kInvalidUtf8);              // lone continuation
  EXPECT_EQ(utf8_code("\xC3"), ErrorCode::kInvalidUtf8);              // truncated
  EXPECT_EQ(utf8_code("\xE2\x82"), ErrorCode::kInvalidUtf8);          // truncated
  EXPECT_EQ(utf8_code("\xC3\x28"), ErrorCode::kInvalidUtf8);          // bad continuation
  EXPECT_EQ(utf8_code("\xFF"), ErrorCode::kInvalidUtf8);
  EXPECT_EQ(utf8_code("\xF8\x88\x80\x80\x80"), ErrorCode::kInvalidUtf8);  // 5-byte form
}

TEST(MqttTopicName, AcceptsNamesWithoutWildcards) {
  EXPECT_TRUE(validate_topic_name("armored/v1/gw-1/up", 256).has_value());
  EXPECT_TRUE(validate_topic_name("/", 256).has_value());
  EXPECT_TRUE(validate_topic_name("$SYS/x", 256).has_value());
}

TEST(MqttTopicName, RejectsWildcards_MQTT_3_3_2_2) {
  EXPECT_EQ(validate_topic_name("a/+/b", 256).error().code, ErrorCode::kInvalidTopicName);
  EXPECT_EQ(validate_topic_name("a/#", 256).error().code, ErrorCode::kInvalidTopicName);
  EXPECT_EQ(validate_topic_name("a+b", 256).error().code, ErrorCode::kInvalidTopicName);
}

TEST(MqttTopicName, RejectsEmptyAndTooLong_MQTT_4_7_3_1) {
  EXPECT_EQ(validate_topic_name("", 256).error().code, ErrorCode::kInvalidTopicName);
  EXPECT_EQ(validate_topic_name(std::string(257, 'a'), 256).error().code, ErrorCode::kInvalidTopicName);
  EXPECT_TRUE(validate_topic_name(std::string(256, 'a'), 256).has_value());
}

TEST(MqttTopicName, RejectsBadUtf8) {
  EXPECT_EQ(validate_topic_name("a/\xED\xA0\x80", 256).error().code, ErrorCode::kInvalidUtf8);
}

TEST(MqttTopicFilter, AcceptsSpecExamples) {
  for (auto f : {"sport/tennis/player1/#", "sport/#", "#", "+", "+/tennis/#", "sport/+/player1", "/+", "+/+",
                 "armored/v1/+/up", "a//b", "$SYS/#"}) {
    EXPECT_TRUE(validate_topic_filter(f, 256).has_value()) << f;
  }
}

TEST(MqttTopicFilter, HashMustBeWholeLastLevel_MQTT_4_7_1_2) {
  for (auto f : {"sport/tennis#", "sport/tennis/#/ranking", "#/a", "a/#b", "##"}) {
    EXPECT_EQ(validate_topic_filter(f, 256).error().code, ErrorCode::kInvalidTopicFilter) << f;
  }
}

TEST(MqttTopicFilter, PlusMustBeWholeLevel_MQTT_4_7_1_3) {
  for (auto f : {"sport+", "sport/+tennis", "a/b+/c", "++"}) {
    EXPECT_EQ(validate_topic_filter(f, 256).error().code, ErrorCode::kInvalidTopicFilter) << f;
  }
}

TEST(MqttTopicFilter, RejectsEmptyTooLongAndBadUtf8) {
  EXPECT_EQ(validate_topic_filter("", 256).error().code, ErrorCode::kInvalidTopicFilter);
  EXPECT_EQ(validate_topic_filter(std::string(10, 'a'), 9).error().code, ErrorCode::kInvalidTopicFilter);
  EXPECT_EQ(validate_topic_filter(std::string_view("a\0", 2), 9).error().code, ErrorCode::kInvalidUtf8);
}

TEST(MqttTopicMatch, MultiLevelWildcard_Section_4_7_1_2) {
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  EXPECT_TRUE(topic_matches("sport/#", "sport"));
  EXPECT_TRUE(topic_matches("#", "a/b/c"));
  EXPECT_TRUE(topic_matches("#", "/"));
  EXPECT_FALSE(topic_matches("sport/tennis/#", "sport/football"));
  EXPECT_FALSE(topic_matches("sport/tennis/#", "sport"));
}

TEST(MqttTopicMatch, SingleLevelWildcard_Section_4_7_1_3) {
  EXPECT_TRUE(topic_matches("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_TRUE(topic_matches("sport/tennis/+", "sport/tennis/player2"));
  EXPECT_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(topic_matches("sport/+", "sport/"));
  EXPECT_FALSE(topic_matches("sport/+", "sport"));
  EXPECT_TRUE(topic_matches("+/+", "/finance"));
  EXPECT_TRUE(topic_matches("/+", "/finance"));
  EXPECT_FALSE(topic_matches("+", "/finance"));
  EXPECT_TRUE(topic_matches("armored/v1/+/up", "armored/v1/gw-7/up"));
  EXPECT_FALSE(topic_matches("armored/v1/+/up", "armored/v1/gw-7/down"));
}

TEST(MqttTopicMatch, ExactAndCaseSensitive) {
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "A/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_FALSE(topic_matches("a/b ", "a/b"));
}

TEST(MqttTopicMatch, WildcardsDoNotMatchDollarTopics_MQTT_4_7_2_1) {
  EXPECT_FALSE(topic_matches("#", "$SYS/broker"));
  EXPECT_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
}

}  // namespace
}  // namespace armored::mqtt
