// Who may publish and subscribe where (cloud/topics.h); the topic scheme
// itself is tested in tests/topics.

#include "cloud/internal/topics.h"

#include <gtest/gtest.h>

namespace armored::cloud {
namespace {

TEST(Topics, AGatewayPublishesOnlyToItsOwnUplink) {
  EXPECT_TRUE(may_publish("gw1", "armored/v1/gw1/up"));
  EXPECT_FALSE(may_publish("gw1", "armored/v1/gw2/up"));
  EXPECT_FALSE(may_publish("gw1", "armored/v1/gw1/down"));
  EXPECT_FALSE(may_publish("gw1", "armored/v1/gw1/up/extra"));
  EXPECT_FALSE(may_publish("gw1", "armored/v1/+/up"));
  EXPECT_FALSE(may_publish("", "armored/v1//up"));
}

TEST(Topics, AGatewaySubscribesOnlyToItsOwnDownlink) {
  EXPECT_TRUE(may_subscribe("gw1", "armored/v1/gw1/down"));
  EXPECT_FALSE(may_subscribe("gw1", "armored/v1/+/down"));
  EXPECT_FALSE(may_subscribe("gw1", "armored/v1/#"));
  EXPECT_FALSE(may_subscribe("gw1", "armored/v1/gw2/down"));
  EXPECT_FALSE(may_subscribe("gw1", "armored/v1/gw1/up"));
}

}  // namespace
}  // namespace armored::cloud
