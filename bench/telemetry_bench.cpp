// Per-reading cost of the telemetry code on the pipeline's paths: the
// simulator generates and encodes, the cloud parses (decode + validate).
// Reference in the same run: copying 52 bytes.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "telemetry/generator.h"

namespace {
using namespace armored;
using namespace armored::telemetry;

const Clock::TimePoint kNow{std::chrono::seconds{1'700'000'000}};

std::vector<ReadingBytes> sample(std::size_t n) {
  SeededRng rng(1);
  std::vector<ReadingGenerator> gens;
  for (int i = 0; i < 64; ++i) gens.emplace_back(rng);
  std::vector<ReadingBytes> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(encode(gens[i % 64].next(1'700'000'000 - 30)));
  return out;
}

void BM_Copy52Reference(benchmark::State& state) {
  auto s = sample(1024);
  ReadingBytes dst{};
  std::size_t i = 0;
  for (auto _ : state) {
    std::memcpy(dst.data(), s[i++ & 1023].data(), kReadingSize);
    benchmark::DoNotOptimize(dst);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Copy52Reference);

void BM_ParseReading(benchmark::State& state) {
  auto s = sample(1024);
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = parse_reading(s[i++ & 1023], kNow);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseReading);

void BM_Encode(benchmark::State& state) {
  SeededRng rng(2);
  ReadingGenerator gen(rng);
  Reading r = gen.next(1'700'000'000);
  for (auto _ : state) {
    auto b = encode(r);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Encode);

void BM_GenerateAndEncode(benchmark::State& state) {
  SeededRng rng(3);
  ReadingGenerator gen(rng);
  std::uint32_t ts = 1'700'000'000;
  for (auto _ : state) {
    auto b = encode(gen.next(ts += 30));
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_GenerateAndEncode);

}  // namespace

BENCHMARK_MAIN();
