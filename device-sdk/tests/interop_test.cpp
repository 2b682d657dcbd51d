// The C device against the reference cloud (src/e3 Opener), for every AEAD
// of section 5.2 and both crypto backends: readings open, commands open on
// the device, and every device-side rejection rule of section 8.1 holds.

#include <gtest/gtest.h>

#include <tuple>

#include "common/clock.h"
#include "e3/e3.h"
#include "sdk_support.h"

namespace armored::sdk_test {
namespace {

const Buf kKid = {0x4a, 0x7f, 0x01};
const Buf kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

using Param = std::tuple<Backend, armored_aead>;

class Interop : public ::testing::TestWithParam<Param> {
 protected:
  Interop()
      : identity_scalar_(scalar(0x5a)),
        crypto_(std::get<0>(GetParam()), identity_scalar_, &random_),
        cloud_key_(crypto::EcPrivateKey::generate().value()),
        cloud_pub_(cloud_key_.public_key()->point()),
        opener_(make_opener()) {
    cfg_.kid = kKid.data();
    cfg_.kid_len = kKid.size();
    cfg_.cloud_key_id = kCloudKeyId.data();
    cfg_.cloud_key_id_len = kCloudKeyId.size();
    cfg_.cloud_public_key = cloud_pub_.data();
    cfg_.alg = std::get<1>(GetParam());
    cfg_.reserve_ahead = 16;
  }

  e3::Opener make_opener() {
    e3::OpenerConfig o;
    o.cloud_key_id = kCloudKeyId;
    auto op = e3::Opener::create(o, cloud_key_, clock_, &cloud_store_).value();
    auto identity = crypto::EcPrivateKey::from_scalar(identity_scalar_).value();
    EXPECT_TRUE(op.add_device({kKid, "patient-0042", identity.public_key().value()}));
    return op;
  }

  void init(const Buf& state = {}) {
    ASSERT_EQ(armored_init(&ctx_, &cfg_, &crypto_.crypto, &board_.platform, state.empty() ? nullptr : state.data(),
                           state.size()),
              ARMORED_OK);
  }
  void announce() {
    std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
    std::size_t len = 0;
    ASSERT_EQ(armored_start_epoch(&ctx_, ann, sizeof ann, &len), ARMORED_OK);
    auto acc = opener_.accept_announcement(ByteSpan(ann, len));
    ASSERT_TRUE(acc) << acc.error().message;
  }
  Buf seal(const Buf& pt) {
    Buf out(ARMORED_SEALED_MAX(pt.size()));
    std::size_t len = 0;
    EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out.data(), out.size(), &len), ARMORED_OK);
    out.resize(len);
    return out;
  }
  Buf command(const Buf& pt) {
    Buf out(pt.size() + 64);
    auto n = opener_.seal_command(kKid, pt, out);
    EXPECT_TRUE(n) << n.error().message;
    out.resize(n ? *n : 0);
    return out;
  }
  armored_status open(const Buf& env, Buf* pt = nullptr) {
    Buf out(1100);
    std::size_t len = 0;
    std::uint64_t seq = 0;
    auto st = armored_open_command(&ctx_, env.data(), env.size(), out.data(), out.size(), &len, &seq);
    if (pt && st == ARMORED_OK) *pt = Buf(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
    return st;
  }

  Buf identity_scalar_;
  TestRandom random_;
  Crypto crypto_;
  Board board_;
  ManualClock clock_;
  e3::MemoryStateStore cloud_store_;
  crypto::EcPrivateKey cloud_key_;
  std::array<std::uint8_t, 65> cloud_pub_;
  e3::Opener opener_;
  armored_config cfg_{};
  armored_ctx ctx_{};
};

TEST_P(Interop, ReadingsOpenAtTheCloudAcrossPartialIvLengths) {
  ASSERT_TRUE(crypto_.ok);
  init();
  announce();
  Buf pt(52, 0x42);
  for (int i = 0; i < 300; ++i) {
    pt[0] = static_cast<std::uint8_t>(i);
    const Buf env = seal(pt);
    ASSERT_EQ(env.size(), 2 + 3 + (i < 256 ? 1u : 2u) + 52 + (std::get<1>(GetParam()) == ARMORED_AES_CCM_16_64_128 ? 8u : 16u));
    Buf out(64);
    auto r = opener_.open(env, out);
    ASSERT_TRUE(r) << i << ": " << r.error().message;
    EXPECT_EQ(r->sequence, static_cast<std::uint64_t>(i));
    EXPECT_EQ(Buf(out.begin(), out.begin() + 52), pt);
  }
  // Reserve-ahead of 16: one store per 16 readings plus the epoch's own.
  EXPECT_EQ(board_.stores, 1 + 300 / 16);
}

TEST_P(Interop, CommandsOpenOnceAndRepliesGoBack_Section8_1) {
  ASSERT_TRUE(crypto_.ok);
  init();
  announce();
  const Buf cmd = {0xd9, 0xd9, 0xf7, 0xa1, 0x00, 0x01};
  const Buf env = command(cmd);
  Buf got;
  ASSERT_EQ(open(env, &got), ARMORED_OK);
  EXPECT_EQ(got, cmd);
  EXPECT_EQ(open(env), ARMORED_E_REPLAYED);  // rule 9, and the window was stored
  init(board_.stored);                        // after a reset too
  EXPECT_EQ(open(env), ARMORED_E_REPLAYED);
  // A reply is an ordinary uplink.
  Buf out(64);
  auto r = opener_.open(seal({0xd9, 0xd9, 0xf7, 0xa2}), out);
  ASSERT_TRUE(r) << r.error().message;
}

TEST_P(Interop, CommandRejectionsInTableOrder_Section8_1) {
  ASSERT_TRUE(crypto_.ok);
  init();
  Buf env;
  {
    // Without an epoch: a command for an epoch the device does not hold.
    announce();
    env = command({0xd9, 0xd9, 0xf7, 0x01});
  }
  Buf bad = env;
  bad.back() ^= 1;
  EXPECT_EQ(open(bad), ARMORED_E_AUTHENTICATION_FAILED);                      // 11
  EXPECT_EQ(open(Buf{0x48}), ARMORED_E_MALFORMED);                             // 2: short
  Buf reserved = env;
  reserved[0] = static_cast<std::uint8_t>(reserved[0] | 0xC0);
  EXPECT_EQ(open(reserved), ARMORED_E_MALFORMED);                              // 2: type 3
  Buf uplink = env;
  uplink[0] = static_cast<std::uint8_t>(uplink[0] & 0x3F);
  EXPECT_EQ(open(uplink), ARMORED_E_MALFORMED);                                // 3: not a command
  Buf other_kid = env;
  other_kid[2] ^= 0xff;
  EXPECT_EQ(open(other_kid), ARMORED_E_UNKNOWN_KEY_ID);                        // 4
  Buf other_epoch = env;
  other_epoch[1] ^= 0x01;
  EXPECT_EQ(open(other_epoch), ARMORED_E_UNKNOWN_EPOCH);                       // 5
  EXPECT_EQ(open(Buf(env.begin(), env.begin() + 8)), ARMORED_E_MALFORMED);     // 7: shorter than the tag
  Buf huge(15 + 1024 + 17, 0);
  huge[0] = env[0];
  EXPECT_EQ(open(huge), ARMORED_E_OVERSIZED);                                  // 1
  board_.fail_store = true;
  EXPECT_EQ(open(env), ARMORED_E_PERSIST_FAILED);
  board_.fail_store = false;
  EXPECT_EQ(open(env), ARMORED_OK);  // nothing was marked by the failed attempt
}

TEST_P(Interop, WindowAcceptsReorderingAndRefusesTooOld_Section8_1) {
  ASSERT_TRUE(crypto_.ok);
  init();
  announce();
  std::vector<Buf> envs;
  for (int i = 0; i < 70; ++i) envs.push_back(command({0xd9, 0xd9, 0xf7, static_cast<std::uint8_t>(i)}));
  EXPECT_EQ(open(envs[3]), ARMORED_OK);
  EXPECT_EQ(open(envs[1]), ARMORED_OK);  // reordered within the window
  EXPECT_EQ(open(envs[69]), ARMORED_OK);
  EXPECT_EQ(open(envs[5]), ARMORED_E_TOO_OLD);  // 69 - 5 >= 64
  EXPECT_EQ(open(envs[6]), ARMORED_OK);
  EXPECT_EQ(open(envs[6]), ARMORED_E_REPLAYED);
}

TEST_P(Interop, ResetResumesAtTheReservationAndReannouncesIdempotently_Section7_1) {
  ASSERT_TRUE(crypto_.ok);
  init();
  announce();
  for (int i = 0; i < 20; ++i) seal(Buf(52, 1));
  const Buf state = board_.stored;
  armored_wipe(&ctx_);
  init(state);
  // 20 numbers used, reservation at 32: the next is 32, none reused.
  Buf out(64);
  auto r = opener_.open(seal(Buf(52, 2)), out);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sequence, 32u);
  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
  std::size_t len = 0;
  ASSERT_EQ(armored_announcement(&ctx_, ann, sizeof ann, &len), ARMORED_OK);
  auto acc = opener_.accept_announcement(ByteSpan(ann, len));
  ASSERT_TRUE(acc) << acc.error().message;
  EXPECT_TRUE(acc->duplicate);
}

TEST_P(Interop, RotationByCountAndByTime_Section7_2) {
  ASSERT_TRUE(crypto_.ok);
  cfg_.rotation_messages = 5;
  cfg_.rotation_interval_s = 3600;
  init();
  EXPECT_TRUE(armored_rotation_due(&ctx_));
  std::uint8_t out[128];
  std::size_t len = 0;
  const Buf pt(52, 3);
  EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out, sizeof out, &len), ARMORED_E_ROTATION_REQUIRED);
  announce();
  for (int i = 0; i < 5; ++i) seal(pt);
  EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out, sizeof out, &len), ARMORED_E_ROTATION_REQUIRED);
  announce();
  EXPECT_EQ(ctx_.epoch, 2u);
  Buf o(64);
  EXPECT_TRUE(opener_.open(seal(pt), o));
  board_.now += 3600;
  EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out, sizeof out, &len), ARMORED_E_ROTATION_REQUIRED);
  announce();
  EXPECT_TRUE(opener_.open(seal(pt), o));
}

TEST_P(Interop, FailedStoresLeaveTheContextUnchanged_Section7_1) {
  ASSERT_TRUE(crypto_.ok);
  init();
  board_.fail_store = true;
  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
  std::size_t len = 0;
  EXPECT_EQ(armored_start_epoch(&ctx_, ann, sizeof ann, &len), ARMORED_E_PERSIST_FAILED);
  EXPECT_EQ(ctx_.has_epoch, 0);
  board_.fail_store = false;
  announce();
  for (int i = 0; i < 16; ++i) seal(Buf(52, 1));
  board_.fail_store = true;
  std::uint8_t out[128];
  const Buf pt(52, 3);
  EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out, sizeof out, &len), ARMORED_E_PERSIST_FAILED);
  EXPECT_EQ(ctx_.next_seq, 16u);
  EXPECT_EQ(armored_seal(&ctx_, pt.data(), pt.size(), out, 10, &len), ARMORED_E_BUFFER_TOO_SMALL);
}

TEST_P(Interop, BadConfigAndStateAreRefused) {
  armored_config c = cfg_;
  Buf bad_pub(65, 0x04);
  c.cloud_public_key = bad_pub.data();
  ASSERT_EQ(armored_init(&ctx_, &c, &crypto_.crypto, &board_.platform, nullptr, 0), ARMORED_OK);
  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
  std::size_t len = 0;
  EXPECT_EQ(armored_start_epoch(&ctx_, ann, sizeof ann, &len), ARMORED_E_BAD_CONFIG);  // not on the curve
  c = cfg_;
  c.kid_len = 9;
  EXPECT_EQ(armored_init(&ctx_, &c, &crypto_.crypto, &board_.platform, nullptr, 0), ARMORED_E_BAD_CONFIG);
  c = cfg_;
  c.alg = static_cast<armored_aead>(2);
  EXPECT_EQ(armored_init(&ctx_, &c, &crypto_.crypto, &board_.platform, nullptr, 0), ARMORED_E_BAD_CONFIG);
  Buf state(ARMORED_STATE_SIZE, 0);
  EXPECT_EQ(armored_init(&ctx_, &cfg_, &crypto_.crypto, &board_.platform, state.data(), state.size()),
            ARMORED_E_BAD_CONFIG);
}

INSTANTIATE_TEST_SUITE_P(
    All, Interop,
    ::testing::Combine(::testing::Values(Backend::kOpenssl, Backend::kPsa),
                       ::testing::Values(ARMORED_AES_128_GCM, ARMORED_AES_256_GCM, ARMORED_AES_CCM_16_64_128,
                                         ARMORED_CHACHA20_POLY1305)),
    [](const auto& i) {
      return std::string(backend_name(std::get<0>(i.param))) + "_alg" + std::to_string(std::get<1>(i.param));
    });

}  // namespace
}  // namespace armored::sdk_test
