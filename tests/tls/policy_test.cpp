// Ticket-key rotation, the 0-RTT replay register and config validation.
#include <gtest/gtest.h>

#include "crypto/cpu.h"
#include "tls/config.h"
#include "tls/test_fleet.h"
#include "tls/replay_register.h"
#include "tls/ticket_keys.h"

namespace armored::tls {
namespace {

TEST(TicketKeyRing, RotatesOnScheduleAndRetiresAfterLifetime) {
  ManualClock clock;
  TicketKeyRing ring(std::chrono::seconds(100), std::chrono::seconds(300));
  TicketKey k1 = ring.encryption_key(clock.now());
  EXPECT_EQ(ring.encryption_key(clock.now()).name, k1.name);
  clock.advance(std::chrono::seconds(100));
  TicketKey k2 = ring.encryption_key(clock.now());
  EXPECT_NE(k2.name, k1.name);
  auto old = ring.decryption_key(k1.name, clock.now());
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->current) << "old key decrypts but asks for renewal";
  EXPECT_TRUE(ring.decryption_key(k2.name, clock.now())->current);
  clock.advance(std::chrono::seconds(300));  // k1 created 400 s ago = rotation + lifetime
  EXPECT_FALSE(ring.decryption_key(k1.name, clock.now()));
  EXPECT_FALSE(ring.decryption_key(std::array<std::uint8_t, 16>{}, clock.now()));
}

TEST(ReplayRegister, AdmitsOnceAndForgetsAfterLifetime) {
  ManualClock clock;
  ReplayRegister reg(2, std::chrono::seconds(60));
  ReplayRegister::Key a{}, b{}, c{};
  a[0] = 1;
  b[0] = 2;
  c[0] = 3;
  EXPECT_TRUE(reg.admit(a, clock.now()));
  EXPECT_FALSE(reg.admit(a, clock.now())) << "replay";
  EXPECT_TRUE(reg.admit(b, clock.now()));
  EXPECT_FALSE(reg.admit(c, clock.now())) << "full: refuse rather than forget";
  clock.advance(std::chrono::seconds(61));
  EXPECT_TRUE(reg.admit(c, clock.now()));
  EXPECT_EQ(reg.size(), 1u);
}

TEST(TlsConfig, HardwareRuleOrdersCiphers) {
  std::string s = default_tls13_ciphersuites();
  if (crypto::cpu_has_aes_acceleration()) {
    EXPECT_EQ(s.rfind("TLS_AES_128_GCM_SHA256", 0), 0u);
  } else {
    EXPECT_EQ(s.rfind("TLS_CHACHA20_POLY1305_SHA256", 0), 0u);
  }
  EXPECT_NE(s.find("TLS_AES_256_GCM_SHA384"), std::string::npos);
}

TEST(TlsConfig, ServerWithoutCrlIsRefused) {
  testing::Fleet fleet;
  auto c = fleet.server_config();
  c.crl_file.clear();
  EXPECT_FALSE(validate(c));
  ManualClock clock;
  EXPECT_FALSE(TlsContext::create(c, clock));
}

TEST(TlsConfig, MissingFilesAndBadSettingsAreNamed) {
  testing::Fleet fleet;
  auto c = fleet.client_config();
  c.ca_file = fleet.dir / "missing.pem";
  auto v = validate(c);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("missing.pem"), std::string::npos);
  c = fleet.client_config();
  c.tls13_ciphersuites = "TLS_NOT_A_SUITE";
  SystemClock clock;
  EXPECT_FALSE(TlsContext::create(c, clock));
  c = fleet.client_config();
  c.key_file = fleet.server_key;  // does not match the certificate
  auto k = TlsContext::create(c, clock);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("server.key"), std::string::npos) << k.error().message;
}

}  // namespace
}  // namespace armored::tls
