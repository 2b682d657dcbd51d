#pragma once
// What the device SDK's host tests share: a board (clock, storage, send)
// in memory, and either crypto backend keyed with a given identity scalar.

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "armored_crypto_openssl.h"
#include "armored_crypto_psa.h"
#include "armored_device.h"
#include "crypto/ec.h"

namespace armored::sdk_test {

using Buf = std::vector<std::uint8_t>;

struct Board {
  std::int64_t now = 1'700'000'000;
  Buf stored;
  int stores = 0;
  bool fail_store = false;
  std::vector<Buf> sent;
  armored_platform platform{};

  Board() {
    platform.user = this;
    platform.now = [](void* u) { return static_cast<Board*>(u)->now; };
    platform.store = [](void* u, const std::uint8_t* s, std::size_t len) {
      auto* b = static_cast<Board*>(u);
      ++b->stores;
      if (b->fail_store) return -1;
      b->stored.assign(s, s + len);
      return 0;
    };
    platform.send = [](void* u, const std::uint8_t* d, std::size_t len) {
      static_cast<Board*>(u)->sent.emplace_back(d, d + len);
      return 0;
    };
  }
};

// Random bytes all equal to `fill` (the section 13 example's 0x33 scalar),
// or a counter-based stream when fill is 0.
struct TestRandom {
  std::uint8_t fill = 0;
  std::uint32_t counter = 1;
  static int draw(void* u, std::uint8_t* out, std::size_t len) {
    auto* r = static_cast<TestRandom*>(u);
    for (std::size_t i = 0; i < len; ++i) {
      if (r->fill != 0) {
        out[i] = r->fill;
      } else {
        r->counter = r->counter * 1103515245u + 12345u;
        out[i] = static_cast<std::uint8_t>(r->counter >> 16);
      }
    }
    return 0;
  }
};

enum class Backend { kOpenssl, kPsa };
inline const char* backend_name(Backend b) { return b == Backend::kOpenssl ? "OpenSSL" : "PSA"; }

// One backend holding the identity key given by its scalar.
class Crypto {
 public:
  Crypto(Backend kind, const Buf& identity_scalar, TestRandom* random) : kind_(kind) {
    if (kind == Backend::kOpenssl) {
      auto key = crypto::EcPrivateKey::from_scalar(identity_scalar).value();
      const std::string pem = key.to_pem();
      BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      pkey_ = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      ossl_.identity = pkey_;
      ossl_.random = random ? &TestRandom::draw : nullptr;
      ossl_.random_user = random;
      crypto = armored_crypto_openssl(&ossl_);
    } else {
      std::memset(&psa_, 0, sizeof psa_);
      psa_.random = random ? &TestRandom::draw : nullptr;
      psa_.random_user = random;
      ok = armored_crypto_psa_init(&psa_, &crypto) == 0;
      psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
      psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
      psa_set_key_bits(&attr, 256);
      psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE | PSA_KEY_USAGE_SIGN_HASH);
      psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
      ok = ok && psa_import_key(&attr, identity_scalar.data(), identity_scalar.size(), &psa_.identity) == PSA_SUCCESS;
    }
  }
  ~Crypto() {
    if (kind_ == Backend::kOpenssl) {
      armored_crypto_openssl_free(&ossl_);
      EVP_PKEY_free(pkey_);
    } else {
      armored_crypto_psa_free(&psa_);
      psa_destroy_key(psa_.identity);
    }
  }
  Crypto(const Crypto&) = delete;
  Crypto& operator=(const Crypto&) = delete;

  armored_crypto crypto{};
  bool ok = true;

 private:
  Backend kind_;
  EVP_PKEY* pkey_ = nullptr;
  armored_openssl_backend ossl_{};
  armored_psa_backend psa_{};
};

inline Buf scalar(std::uint8_t b) { return Buf(32, b); }

}  // namespace armored::sdk_test
