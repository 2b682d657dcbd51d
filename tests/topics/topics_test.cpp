// The topic scheme armored/v1/<id>/{up,down,receipts} (topics/topics.h).

#include "topics/topics.h"

#include <gtest/gtest.h>

namespace armored::topics {
namespace {

TEST(Topics, EachGatewayHasAnUplinkADownlinkAndAReceiptsTopic) {
  EXPECT_EQ(uplink_topic("gw1"), "armored/v1/gw1/up");
  EXPECT_EQ(downlink_topic("gw1"), "armored/v1/gw1/down");
  EXPECT_EQ(receipts_topic("gw1"), "armored/v1/gw1/receipts");
  const GatewayTopics t = gateway_topics("gw-berlin-1");
  EXPECT_EQ(t.up, uplink_topic("gw-berlin-1"));
  EXPECT_EQ(t.down, downlink_topic("gw-berlin-1"));
  EXPECT_EQ(t.receipts, receipts_topic("gw-berlin-1"));
}

TEST(Topics, TheBrokerFilterMatchesEveryUplinkAndNothingElse) {
  EXPECT_EQ(kEveryUplink, "armored/v1/+/up");
  EXPECT_EQ(uplink_owner(uplink_topic("dev-0042")), "dev-0042");
  EXPECT_FALSE(uplink_owner(kEveryUplink));  // a filter, not one gateway's topic
  EXPECT_FALSE(uplink_owner("armored/v1/#/up"));
}

TEST(Topics, UplinkOwnerParsesOnlyWellFormedTopics) {
  EXPECT_EQ(uplink_owner("armored/v1/gw1/up"), "gw1");
  EXPECT_FALSE(uplink_owner("armored/v1/gw1/down"));
  EXPECT_FALSE(uplink_owner("armored/v1/gw1/receipts"));
  EXPECT_FALSE(uplink_owner("armored/v1//up"));
  EXPECT_FALSE(uplink_owner("armored/v1/a/b/up"));
  EXPECT_FALSE(uplink_owner("armored/v2/gw1/up"));
  EXPECT_FALSE(uplink_owner("armored/v1/up"));  // no <id> level at all
  EXPECT_FALSE(uplink_owner("armored/v1/"));
  EXPECT_FALSE(uplink_owner(""));
}

}  // namespace
}  // namespace armored::topics
