// command_bench: time per command for text validation (cloud), encoding,
// strict decoding, and the device's whole processor step.
// BM_Reference_CborDecode decodes the same bytes with the plain CBOR
// decoder: the floor the strict command decoder is compared with.

#include <benchmark/benchmark.h>

#include <optional>

#include "cbor/decoder.h"
#include "command/codec.h"
#include "command/processor.h"
#include "command/simulated_device.h"
#include "command/validate.h"

namespace {

using namespace armored;
using namespace armored::command;

const std::vector<std::string> kArgs = {"seconds=60"};

Command sample() {
  Command c;
  c.id = 123456789;
  c.name = "set_interval";
  c.params = {{"seconds", Value::integer(60)}};
  c.issued_at_ms = 1'700'000'000'000;
  return c;
}

void BM_ValidateText(benchmark::State& state) {
  Validator v(Schema::builtin());
  for (auto _ : state) benchmark::DoNotOptimize(v.from_text("wearable", "set_interval", kArgs));
}
BENCHMARK(BM_ValidateText);

void BM_EncodeCommand(benchmark::State& state) {
  const Command c = sample();
  for (auto _ : state) benchmark::DoNotOptimize(encode_command(c));
}
BENCHMARK(BM_EncodeCommand);

void BM_DecodeCommand(benchmark::State& state) {
  const Bytes wire = *encode_command(sample());
  for (auto _ : state) benchmark::DoNotOptimize(decode_command(wire));
}
BENCHMARK(BM_DecodeCommand);

void BM_Reference_CborDecode(benchmark::State& state) {
  const Bytes wire = *encode_command(sample());
  cbor::Limits l;
  l.allow_float64 = true;
  for (auto _ : state) benchmark::DoNotOptimize(cbor::decode(wire, l));
}
BENCHMARK(BM_Reference_CborDecode);

// Decode, freshness, id memory, validation, token bucket, action, reply
// encoding. The clock moves 100 ms per command so a 600-per-minute bucket
// always has a token: this measures acceptances, not refusals.
void BM_ProcessorAccept(benchmark::State& state) {
  auto schema = Schema::parse(
      "schema_version = 1\n[wearable.set_interval]\nrate_per_minute = 600\n"
      "params.seconds = { type = \"int\", min = 5, max = 3600 }\n",
      "bench");
  Clock::TimePoint now{std::chrono::milliseconds{1'700'000'000'000}};
  SimulatedDevice sim(DeviceSettings{}, now);
  std::optional<CommandProcessor> proc;
  proc.emplace(*schema, "wearable", sim);
  std::vector<Bytes> wires;
  Command c = sample();
  for (std::uint64_t i = 0; i < 4096; ++i) {
    c.id = i + 1;
    c.issued_at_ms = 1'700'000'000'000 + static_cast<std::int64_t>(i) * 100;
    wires.push_back(*encode_command(c));
  }
  std::size_t i = 0;
  std::uint64_t accepted = 0;
  for (auto _ : state) {
    if (i == wires.size()) {
      state.PauseTiming();
      // Fresh device state for the next round of ids.
      proc.emplace(*schema, "wearable", sim);
      now = Clock::TimePoint{std::chrono::milliseconds{1'700'000'000'000}};
      i = 0;
      state.ResumeTiming();
    }
    auto r = proc->handle_to_wire(wires[i++], now);
    now += std::chrono::milliseconds(100);
    benchmark::DoNotOptimize(r);
  }
  accepted = proc->counters().accepted;
  // 1.0: every measured command took the full acceptance path.
  state.counters["accepted_share"] =
      static_cast<double>(accepted) / static_cast<double>(std::max<std::uint64_t>(1, proc->counters().received));
}
BENCHMARK(BM_ProcessorAccept);

}  // namespace
