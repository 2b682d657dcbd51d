// Where the time of one fleet identity goes. Run: build/release/bench/pki_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_io.h"
#include "pki/batch_writer.h"
#include "pki/certs.h"

namespace {

using namespace armored;
using namespace armored::pki;

struct Ca {
  pki::ossl::PkeyPtr key;
  pki::ossl::X509Ptr cert;
};

Ca& issuing_ca() {
  static Ca ca = [] {
    KeyGenerator keys;
    Ca c;
    c.key = keys.generate().value();
    auto now = SystemClock().now();
    c.cert = make_root(c.key.get(), "Bench CA", validity_for_days(now, 30)).value();
    return c;
  }();
  return ca;
}

IssueRequest device_request() {
  IssueRequest r;
  r.role = Role::device;
  r.id = "dev-0001";
  r.validity = validity_for_days(SystemClock().now(), 10);
  return r;
}

// Reference: one bare ECDSA P-256 SHA-256 signature over 32 bytes.
void BM_ReferenceEcdsaSign(benchmark::State& state) {
  EVP_PKEY* key = issuing_ca().key.get();
  unsigned char msg[32] = {1}, sig[80];
  for (auto _ : state) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    std::size_t len = sizeof sig;
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(md, sig, &len, msg, sizeof msg);
    EVP_MD_CTX_free(md);
    benchmark::DoNotOptimize(len);
  }
}
BENCHMARK(BM_ReferenceEcdsaSign);

void BM_KeyGeneration(benchmark::State& state) {
  KeyGenerator keys;
  for (auto _ : state) benchmark::DoNotOptimize(keys.generate());
}
BENCHMARK(BM_KeyGeneration);

void BM_LeafCertificate(benchmark::State& state) {
  KeyGenerator keys;
  auto key = keys.generate().value();
  auto req = device_request();
  for (auto _ : state) benchmark::DoNotOptimize(make_leaf(key.get(), req, issuing_ca().cert.get(), issuing_ca().key.get()));
}
BENCHMARK(BM_LeafCertificate);

void BM_KeyToPem(benchmark::State& state) {
  KeyGenerator keys;
  auto key = keys.generate().value();
  for (auto _ : state) {
    auto pem = pki::ossl::key_to_pem(key.get());
    pki::ossl::wipe(*pem);
  }
}
BENCHMARK(BM_KeyToPem);

// The same PKCS#8 PEM through OpenSSL's encoder, for comparison.
void BM_KeyToPemOpenssl(benchmark::State& state) {
  KeyGenerator keys;
  auto key = keys.generate().value();
  for (auto _ : state) {
    auto pem = pki::ossl::key_to_pem_openssl(key.get());
    pki::ossl::wipe(*pem);
  }
}
BENCHMARK(BM_KeyToPemOpenssl);

void BM_CertToPem(benchmark::State& state) {
  KeyGenerator keys;
  auto key = keys.generate().value();
  auto cert = make_leaf(key.get(), device_request(), issuing_ca().cert.get(), issuing_ca().key.get()).value();
  for (auto _ : state) benchmark::DoNotOptimize(pki::ossl::cert_to_pem(cert.get()));
}
BENCHMARK(BM_CertToPem);

// File writes: atomic without fsync (what fleet does) and with two fsyncs.
void write_files(benchmark::State& state, bool synced) {
  std::string dir_name = "pki-bench-";
  dir_name += std::to_string(::getpid());
  auto dir = std::filesystem::temp_directory_path() / dir_name;
  std::filesystem::create_directories(dir);
  std::string data(600, 'x');
  std::size_t n = 0;
  for (auto _ : state) {
    std::string name = "f";
    name += std::to_string(n++);
    auto p = dir / name;
    if (synced)
      benchmark::DoNotOptimize(write_file_atomic(p, as_bytes(data), 0600));
    else
      benchmark::DoNotOptimize(write_file_atomic_unsynced(p, as_bytes(data), 0600));
  }
  std::filesystem::remove_all(dir);
}
void BM_WriteFileUnsynced(benchmark::State& state) { write_files(state, false); }
void BM_WriteFileFsynced(benchmark::State& state) { write_files(state, true); }
BENCHMARK(BM_WriteFileUnsynced);
BENCHMARK(BM_WriteFileFsynced);

}  // namespace

BENCHMARK_MAIN();
