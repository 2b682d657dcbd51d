// Everything else a device parses from outside: a command envelope (opened
// by the device of docs/e3-protocol.md section 13 after its first epoch),
// a persisted state and a provisioning record. Each must be refused or
// accepted without a crash; an accepted command's plaintext fits its
// envelope, and an accepted state seals at the reservation it names.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <cstring>

#include "armored_crypto_openssl.h"
#include "armored_device.h"
#include "crypto/ec.h"

namespace {

std::int64_t fake_now(void*) { return 1'700'000'000; }
int fake_store(void*, const std::uint8_t*, std::size_t) { return 0; }
int fill33(void*, std::uint8_t* out, std::size_t n) {
  std::memset(out, 0x33, n);
  return 0;
}

struct World {
  armored_openssl_backend backend{};
  armored_crypto crypto{};
  armored_platform platform{nullptr, fake_now, fake_store, nullptr};
  std::uint8_t kid[3] = {0x4a, 0x7f, 0x01};
  std::uint8_t cloud_key_id[7] = {'c', 'l', 'o', 'u', 'd', '-', '1'};
  std::array<std::uint8_t, 65> cloud_pub{};
  armored_config cfg{};
  armored_ctx started{};

  World() {
    using namespace armored;
    auto identity = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x11)).value();
    const std::string pem = identity.to_pem();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    backend.identity = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    backend.random = fill33;
    crypto = armored_crypto_openssl(&backend);
    cloud_pub = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x22)).value().public_key()->point();
    cfg = {kid, 3, cloud_key_id, 7, cloud_pub.data(), ARMORED_AES_128_GCM, 0, 0, 0, 0};
    if (armored_init(&started, &cfg, &crypto, &platform, nullptr, 0) != ARMORED_OK) std::abort();
    std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX];
    std::size_t len = 0;
    if (armored_start_epoch(&started, ann, sizeof ann, &len) != ARMORED_OK) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World w;
  // Command: on a copy, so every input meets the same fresh window.
  armored_ctx ctx = w.started;
  std::uint8_t out[1100];
  std::size_t len = 0;
  std::uint64_t seq = 0;
  if (armored_open_command(&ctx, data, size, out, sizeof out, &len, &seq) == ARMORED_OK && len + 21 > size + 16) {
    std::abort();
  }
  // State: any accepted state resumes at the reservation it names.
  armored_ctx restored;
  if (armored_init(&restored, &w.cfg, &w.crypto, &w.platform, data, size) == ARMORED_OK) {
    if (restored.next_seq != restored.reserved_until) std::abort();
  }
  armored_provisioning p;
  if (armored_provisioning_parse(data, size, &p) == ARMORED_OK && (p.kid_len < 1 || p.kid_len > 8)) std::abort();
  armored_reading r;
  if (armored_reading_decode(data, size, &r) == ARMORED_OK) {
    std::uint8_t again[ARMORED_READING_SIZE];
    armored_reading_encode(&r, again);
    if (std::memcmp(again, data, ARMORED_READING_SIZE) != 0) std::abort();
  }
  return 0;
}
