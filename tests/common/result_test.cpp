#include "common/result.h"

#include <gtest/gtest.h>

namespace armored {
namespace {

enum class Code { kBad };
struct E {
  Code code;
};

Result<int, E> half(int x) {
  if (x % 2) return unexpected(E{Code::kBad});
  return x / 2;
}

Result<int, E> quarter(int x) {
  auto h = half(x);
  ARMORED_TRY(h);
  return half(*h);
}

TEST(Result, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kBad);
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(Result, TryPropagatesErrors) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_FALSE(quarter(6));
  EXPECT_FALSE(quarter(5));
}

TEST(Result, VoidStatus) {
  Status ok;
  EXPECT_TRUE(ok);
  Status bad = fail("no");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "no");
}


// A component's typed error, converted the way each component converts its own.
namespace sensor {
enum class SensorErrc { kUnplugged, kOutOfRange };
struct SensorError {
  SensorErrc code;
  std::string message;
};
Error to_error(const SensorError& e) {
  return e.code == SensorErrc::kUnplugged ? Error{e.message, "sensor", "unplugged", ErrorKind::kFailed}
                                          : Error{e.message, "sensor", "out_of_range", ErrorKind::kBadInput};
}
}  // namespace sensor

static_assert(ConvertsToError<sensor::SensorError>);
static_assert(ConvertsToError<Error>);
static_assert(!ConvertsToError<E>);  // no to_error: it cannot cross silently

Expected<int> read_sensor(bool plugged) {
  Result<int, sensor::SensorError> r = plugged ? Result<int, sensor::SensorError>(7)
                                               : unexpected(sensor::SensorError{sensor::SensorErrc::kUnplugged, "no signal"});
  if (!r) return fail("sensor 3", r.error());
  return *r;
}

TEST(Error, MessageOnlyFailIsBadInputWithoutComponent) {
  Status s = fail("config.toml: port is 70000");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "config.toml: port is 70000");
  EXPECT_TRUE(s.error().component.empty());
  EXPECT_TRUE(s.error().code.empty());
  EXPECT_EQ(s.error().kind, ErrorKind::kBadInput);
}

TEST(Error, TypedErrorKeepsComponentCodeAndKindAcrossFail) {
  auto r = read_sensor(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "sensor 3: no signal");
  EXPECT_EQ(r.error().component, "sensor");
  EXPECT_EQ(r.error().code, "unplugged");
  EXPECT_EQ(r.error().kind, ErrorKind::kFailed);
  EXPECT_EQ(*read_sensor(true), 7);
}

TEST(Error, AGeneralErrorPassesThroughFailUnchanged) {
  const Error e{"cannot open x.db", "store", "unavailable", ErrorKind::kFailed};
  Status once = fail(e);
  Status twice = fail("cloud", once.error());
  EXPECT_EQ(once.error().message, "cannot open x.db");
  EXPECT_EQ(twice.error().message, "cloud: cannot open x.db");
  EXPECT_EQ(twice.error().component, "store");
  EXPECT_EQ(twice.error().code, "unavailable");
  EXPECT_EQ(twice.error().kind, ErrorKind::kFailed);
}

}  // namespace
}  // namespace armored
