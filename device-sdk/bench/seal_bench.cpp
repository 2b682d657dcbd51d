// Seal rate of the device SDK on the host (OpenSSL and PSA backends) next to
// the C++ reference sealer (src/e3) that `armored fleet` uses today: what
// dogfooding the fleet through the C library would cost per reading.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "armored_crypto_openssl.h"
#include "armored_crypto_psa.h"
#include "armored_device.h"
#include "common/clock.h"
#include "common/rng.h"
#include "e3/e3.h"

namespace {
using namespace armored;

const Bytes kKid = {0x4a, 0x7f, 0x01};
const Bytes kCloudKeyId = {'c', 'l', 'o', 'u', 'd', '-', '1'};

std::int64_t now_s(void*) { return 1'700'000'000; }
int store_ok(void*, const std::uint8_t*, std::size_t) { return 0; }

void BM_CSeal(benchmark::State& state) {
  const bool psa = state.range(0) == 1;
  const auto alg = static_cast<armored_aead>(state.range(1));
  auto identity = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x11)).value();
  auto cloud = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x22)).value().public_key()->point();
  armored_openssl_backend ob{};
  armored_psa_backend pb{};
  armored_crypto c{};
  if (psa) {
    armored_crypto_psa_init(&pb, &c);
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    const Bytes scalar(32, 0x11);
    psa_import_key(&attr, scalar.data(), scalar.size(), &pb.identity);
  } else {
    const std::string pem = identity.to_pem();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    ob.identity = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    c = armored_crypto_openssl(&ob);
  }
  const armored_platform platform = {nullptr, now_s, store_ok, nullptr};
  armored_config cfg = {kKid.data(), 3, kCloudKeyId.data(), 7, cloud.data(), alg, 0, 0xffffffffu, 1u << 20, 0};
  armored_ctx ctx;
  armored_init(&ctx, &cfg, &c, &platform, nullptr, 0);
  std::uint8_t ann[ARMORED_ANNOUNCEMENT_MAX], out[128], pt[52] = {};
  std::size_t len = 0;
  if (armored_start_epoch(&ctx, ann, sizeof ann, &len) != ARMORED_OK) state.SkipWithError("start_epoch");
  for (auto _ : state) {
    if (armored_seal(&ctx, pt, sizeof pt, out, sizeof out, &len) != ARMORED_OK) state.SkipWithError("seal");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  if (psa) {
    armored_crypto_psa_free(&pb);
    psa_destroy_key(pb.identity);
  } else {
    armored_crypto_openssl_free(&ob);
    EVP_PKEY_free(ob.identity);
  }
}

void BM_CppSeal(benchmark::State& state) {
  ManualClock clock;
  SystemRng rng;
  e3::MemoryStateStore store;
  e3::SealerConfig cfg;
  cfg.kid = kKid;
  cfg.cloud_key_id = kCloudKeyId;
  cfg.alg = static_cast<crypto::AeadAlg>(state.range(1));
  cfg.rotation_messages = std::uint64_t{1} << 40;
  cfg.reserve_ahead = 1u << 20;
  auto cloud = crypto::EcPrivateKey::from_scalar(Bytes(32, 0x22)).value().public_key().value();
  auto sealer = e3::Sealer::create(cfg, crypto::EcPrivateKey::from_scalar(Bytes(32, 0x11)).value(), cloud, clock, rng,
                                   store)
                    .value();
  (void)sealer.start_epoch();
  std::uint8_t out[128], pt[52] = {};
  for (auto _ : state) {
    auto n = sealer.seal(ByteSpan(pt, sizeof pt), MutableByteSpan(out, sizeof out));
    if (!n) state.SkipWithError("seal");
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void algs(benchmark::internal::Benchmark* b, int backend) {
  for (int alg : {1, 3, 10, 24}) b->Args({backend, alg});
}

BENCHMARK(BM_CSeal)->Apply([](auto* b) { algs(b, 0); })->Name("CSeal/OpenSSL");
BENCHMARK(BM_CSeal)->Apply([](auto* b) { algs(b, 1); })->Name("CSeal/PSA");
BENCHMARK(BM_CppSeal)->Apply([](auto* b) { algs(b, 0); })->Name("CppSeal");

}  // namespace

BENCHMARK_MAIN();
