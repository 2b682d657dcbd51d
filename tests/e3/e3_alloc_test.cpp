// The hot path allocates nothing: seal() and open() in steady state are run
// under a counting global operator new, and OpenSSL's own allocator is
// routed through a counter as well (CRYPTO_set_mem_functions).

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "e3_fixture.h"

namespace {

std::atomic<std::size_t> g_news{0};
std::atomic<std::size_t> g_openssl_allocs{0};

void* counting_malloc(std::size_t n, const char*, int) {
  ++g_openssl_allocs;
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  ++g_openssl_allocs;
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }

// Must run before OpenSSL allocates anything, i.e. during static initialisation.
const bool g_hooked = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

}  // namespace

// GCC 12 at -O3 inlines these into gtest's registration code and then warns
// that malloc'd memory reaches free() through operator delete; that pairing
// is exactly what this file defines, so the warning is a false positive here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace armored::e3 {
namespace {

using testing::Pair;

class HotPath : public ::testing::TestWithParam<crypto::AeadAlg> {};

TEST_P(HotPath, SealAndOpenAllocateNothing) {
  ASSERT_TRUE(g_hooked) << "OpenSSL allocated before the hook was installed";
  SealerConfig cfg;
  cfg.reserve_ahead = 100000;  // no reservation write inside the measured loop
  Pair p(GetParam(), cfg);
  p.rotate();
  const Bytes pt = testing::reading();
  Bytes env(p.sealer->sealed_size(pt.size()) + 8);
  Bytes out(env.size());
  // Warm up once (first use may initialise lazily-fetched OpenSSL algorithms).
  auto n0 = p.sealer->seal(pt, env);
  ASSERT_TRUE(n0);
  ASSERT_TRUE(p.opener->open(ByteSpan(env).first(*n0), out));

  const std::size_t news_before = g_news.load();
  const std::size_t ossl_before = g_openssl_allocs.load();
  std::size_t opened = 0;
  for (int i = 0; i < 1000; ++i) {
    auto n = p.sealer->seal(pt, env);
    if (!n) break;
    auto r = p.opener->open(ByteSpan(env).first(*n), out);
    if (r && r->plaintext_size == pt.size()) ++opened;
  }
  const std::size_t news = g_news.load() - news_before;
  const std::size_t ossl = g_openssl_allocs.load() - ossl_before;
  EXPECT_EQ(opened, 1000u);
  EXPECT_EQ(news, 0u) << "operator new calls on the hot path";
  EXPECT_EQ(ossl, 0u) << "OpenSSL allocations on the hot path";
}

TEST(HotPathCounter, CountsWhatItShould) {
  // The counters are live: a vector allocation and an OpenSSL key do count.
  const std::size_t before = g_news.load();
  auto* v = new std::vector<int>(100);
  delete v;
  EXPECT_GE(g_news.load() - before, 2u);
  const std::size_t ossl_before = g_openssl_allocs.load();
  auto key = crypto::EcPrivateKey::generate();
  ASSERT_TRUE(key);
  EXPECT_GT(g_openssl_allocs.load(), ossl_before);
}

INSTANTIATE_TEST_SUITE_P(E3, HotPath, ::testing::ValuesIn(crypto::kAllAeads));

}  // namespace
}  // namespace armored::e3
