// MQTT codec and session throughput. Run from a release build:
//   cmake --preset release && cmake --build --preset release --target mqtt_bench
//   build/release/bench/mqtt_bench
// BM_Memcpy* copy the same number of bytes: the floor any codec pays.
#include <benchmark/benchmark.h>

#include <cstring>

#include "mqtt/mqtt.h"

using namespace armored;
using namespace armored::mqtt;

namespace {

constexpr std::string_view kTopic = "armored/v1/gw-0001/up";

Bytes make_payload(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + 7);
  return b;
}

// 100 envelopes of 76 bytes, each behind a 2-byte length (the codec treats
// the batch as an opaque payload; its framing belongs to the pipeline spec).
Bytes make_batch() {
  Bytes b;
  const Bytes env = make_payload(76);
  for (int i = 0; i < 100; ++i) {
    b.push_back(0);
    b.push_back(76);
    b.insert(b.end(), env.begin(), env.end());
  }
  return b;
}

Publish publish_of(const Bytes& payload) {
  return Publish{kTopic, payload, QoS::kAtLeastOnce, false, false, 4242};
}

void encode_bench(benchmark::State& state, const Bytes& payload) {
  const Publish p = publish_of(payload);
  Bytes buf(payload.size() + 64);
  for (auto _ : state) {
    auto n = encode_publish(p, buf);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload.size()));
}

void decode_bench(benchmark::State& state, const Bytes& payload) {
  Bytes wire;
  if (!append_packet(publish_of(payload), wire)) state.SkipWithError("encode failed");
  for (auto _ : state) {
    auto f = decode_frame(wire, Limits{});
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

// Streaming decoder: includes copying each chunk into its buffer.
void stream_decode_bench(benchmark::State& state, const Bytes& payload) {
  Bytes wire;
  if (!append_packet(publish_of(payload), wire)) state.SkipWithError("encode failed");
  Decoder d;
  for (auto _ : state) {
    d.feed(wire);
    auto p = d.next();
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

void memcpy_bench(benchmark::State& state, std::size_t n) {
  Bytes src = make_payload(n);
  Bytes dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_EncodePublish96(benchmark::State& s) { encode_bench(s, make_payload(96)); }
void BM_DecodePublish96(benchmark::State& s) { decode_bench(s, make_payload(96)); }
void BM_StreamDecodePublish96(benchmark::State& s) { stream_decode_bench(s, make_payload(96)); }
void BM_Memcpy96(benchmark::State& s) { memcpy_bench(s, 96); }
void BM_EncodeBatch100x76(benchmark::State& s) { encode_bench(s, make_batch()); }
void BM_DecodeBatch100x76(benchmark::State& s) { decode_bench(s, make_batch()); }
void BM_StreamDecodeBatch100x76(benchmark::State& s) { stream_decode_bench(s, make_batch()); }
void BM_MemcpyBatch7800(benchmark::State& s) { memcpy_bench(s, 7800); }

// One QoS 1 reading through both state machines: client publish -> server
// receive -> application acknowledge -> client receives PUBACK.
void BM_SessionQos1RoundTrip96(benchmark::State& state) {
  ClientOptions co;
  co.client_id = "gw-0001";
  ClientSession client(co);
  ServerSession server({}, Time{0});
  Time now{0};
  auto move_bytes = [&] {
    auto c2s = client.pending_output();
    for (const auto& e : server.receive(c2s, now)) {
      if (e.kind == ServerEvent::Kind::kMessage) (void)server.acknowledge(e.message.packet_id);
    }
    client.consume_output(c2s.size());
    auto s2c = server.pending_output();
    auto events = client.receive(s2c, now);
    benchmark::DoNotOptimize(events);
    server.consume_output(s2c.size());
  };
  if (!client.connect(now)) state.SkipWithError("connect failed");
  move_bytes();
  const Bytes payload = make_payload(96);
  for (auto _ : state) {
    auto id = client.publish(kTopic, payload, QoS::kAtLeastOnce, false, now);
    if (!id) state.SkipWithError("publish refused");
    move_bytes();
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_EncodePublish96);
BENCHMARK(BM_DecodePublish96);
BENCHMARK(BM_StreamDecodePublish96);
BENCHMARK(BM_Memcpy96);
BENCHMARK(BM_EncodeBatch100x76);
BENCHMARK(BM_DecodeBatch100x76);
BENCHMARK(BM_StreamDecodeBatch100x76);
BENCHMARK(BM_MemcpyBatch7800);
BENCHMARK(BM_SessionQos1RoundTrip96);

BENCHMARK_MAIN();
