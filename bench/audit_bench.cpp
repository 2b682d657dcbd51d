// audit_bench: bytes per second of the secrets line rules, the binary
// reader (strings + DER shapes) and the capture analyser. BM_Reference_Memchr
// scans the same bytes with memchr: the floor any scanner is compared with.

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "audit/binary_strings.h"
#include "audit/code_lexer.h"
#include "audit/code_rules.h"
#include "audit/pcap_analyzer.h"
#include "audit/secret_rules.h"

namespace {

using namespace armored;
using namespace armored::audit;

// Typical source: mostly ordinary lines, some with assignments and URLs.
std::vector<std::string> source_lines() {
  std::vector<std::string> lines;
  for (int i = 0; i < 1000; ++i) {
    lines.push_back("  for (std::size_t i = 0; i < items.size(); ++i) total += items[i].weight * factor;");
    lines.push_back("  const char* topic = \"plant/line" + std::to_string(i) + "/temp\";");
    lines.push_back("  // read the configuration and connect to the broker");
    lines.push_back("  auto url = config.get(\"broker_url\", \"mqtts://broker.example.com:8883\");");
    lines.push_back("  int key_length = 32;");
  }
  return lines;
}

std::size_t total_bytes(const std::vector<std::string>& lines) {
  std::size_t n = 0;
  for (const auto& l : lines) n += l.size() + 1;
  return n;
}

void BM_SecretLineRules(benchmark::State& state) {
  auto lines = source_lines();
  for (auto _ : state) {
    SecretLineScanner s(TextKind::kCode);
    std::vector<SecretHit> hits;
    std::uint64_t n = 0;
    for (const auto& l : lines) s.feed(l, ++n, hits);
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(lines)));
}
BENCHMARK(BM_SecretLineRules);

void BM_CodeRules(benchmark::State& state) {
  auto lines = source_lines();
  for (auto _ : state) {
    CommentStripper c(CommentStyle::kCStyle);
    std::size_t hits = 0;
    for (const auto& l : lines) hits += scan_code_line(c.strip(l)).size();
    benchmark::DoNotOptimize(hits);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(lines)));
}
BENCHMARK(BM_CodeRules);

Bytes firmware_like() {
  Bytes b(4u << 20);
  std::mt19937 rng(7);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  // Some text regions, as in a real image.
  for (std::size_t at = 0; at + 200 < b.size(); at += 8192) {
    std::memcpy(b.data() + at, "firmware build 1.2.3 (release) configuration loaded from flash", 63);
  }
  return b;
}

void BM_BinaryReader(benchmark::State& state) {
  Bytes img = firmware_like();
  for (auto _ : state) {
    StringsExtractor x;
    DerKeyFinder d;
    std::vector<ExtractedString> s;
    std::vector<DerKeyMatch> k;
    for (std::size_t i = 0; i < img.size(); i += 65536) {
      auto chunk = ByteSpan(img).subspan(i, std::min<std::size_t>(65536, img.size() - i));
      x.feed(chunk, s);
      d.feed(chunk, k);
      s.clear();
    }
    x.finish(s);
    d.finish(k);
    benchmark::DoNotOptimize(k);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * img.size()));
}
BENCHMARK(BM_BinaryReader);

void BM_Reference_Memchr(benchmark::State& state) {
  Bytes img = firmware_like();
  for (auto _ : state) {
    std::size_t zeros = 0;
    const std::uint8_t* p = img.data();
    const std::uint8_t* end = p + img.size();
    while ((p = static_cast<const std::uint8_t*>(std::memchr(p, 0, static_cast<std::size_t>(end - p))))) {
      ++zeros;
      ++p;
    }
    benchmark::DoNotOptimize(zeros);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * img.size()));
}
BENCHMARK(BM_Reference_Memchr);

Bytes frame(std::uint16_t sport, std::uint32_t seq, const Bytes& payload) {
  Bytes p;
  ByteWriter w(p);
  w.u8(0x45);
  w.u8(0);
  w.u16be(static_cast<std::uint16_t>(40 + payload.size()));
  w.u16be(0);
  w.u16be(0x4000);
  w.u8(64);
  w.u8(6);
  w.u16be(0);
  w.u32be(0x0a000001);
  w.u32be(0x0a000002);
  w.u16be(sport);
  w.u16be(1883);
  w.u32be(seq);
  w.u32be(0);
  w.u8(0x50);
  w.u8(0x18);
  w.u16be(65535);
  w.u32be(0);
  w.bytes(payload);
  return p;
}

void BM_PcapAnalyzerMqttPublishes(benchmark::State& state) {
  Bytes publish = {0x30, 20, 0, 8};
  for (char c : std::string("t/sensor")) publish.push_back(static_cast<std::uint8_t>(c));
  for (int i = 0; i < 10; ++i) publish.push_back('0' + static_cast<std::uint8_t>(i));
  std::vector<Bytes> frames;
  for (std::uint32_t i = 0; i < 10000; ++i) frames.push_back(frame(static_cast<std::uint16_t>(40000 + i % 100), i / 100 * 22, publish));
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  for (auto _ : state) {
    PcapAnalyzer a;
    std::uint64_t n = 0;
    for (const auto& f : frames) a.on_frame(kDltRaw, f, ++n);
    a.finish();
    benchmark::DoNotOptimize(a.findings());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frames.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_PcapAnalyzerMqttPublishes);

}  // namespace
