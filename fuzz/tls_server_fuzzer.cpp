// Feeds arbitrary bytes to a server-side sans-I/O TLS connection, split into
// chunks at positions taken from the input, as a network peer could send them.
#include <cstdint>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <memory>

#include "tls/connection.h"
#include "tls/context.h"
#include "tls/test_pki.h"

namespace {

armored::ManualClock* g_clock = nullptr;
armored::tls::TlsContext* g_ctx = nullptr;
std::filesystem::path* g_dir = nullptr;

void remove_dir() {
  std::error_code ec;
  if (g_dir) std::filesystem::remove_all(*g_dir, ec);
}

void make_context() {
  using namespace armored;
  auto dir = std::filesystem::temp_directory_path() / ("armored-tls-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  g_dir = new std::filesystem::path(dir);
  std::atexit(remove_dir);
  auto root = testing::TestAuthority::root("Fuzz Root");
  testing::LeafSpec spec;
  spec.dns = {"localhost"};
  auto leaf = root->issue(spec);
  testing::write_text(dir / "ca.pem", root->cert_pem());
  testing::write_text(dir / "crl.pem", root->crl_pem());
  leaf.write(dir, "server");
  tls::TlsConfig c;
  c.role = tls::Role::kServer;
  c.ca_file = dir / "ca.pem";
  c.crl_file = dir / "crl.pem";
  c.cert_chain = dir / "server.crt";
  c.key_file = dir / "server.key";
  c.min_version = tls::MinVersion::kTls12;  // reach the TLS 1.2 parsers too
  g_clock = new ManualClock(SystemClock().now());
  auto ctx = tls::TlsContext::create(c, *g_clock);
  if (!ctx) std::abort();
  g_ctx = ctx->release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (g_ctx == nullptr) make_context();
  auto conn = armored::tls::Connection::server(*g_ctx);
  if (!conn) return 0;
  armored::ByteSpan in(data, size);
  // First byte picks the chunk size so record boundaries vary.
  std::size_t chunk = size > 0 ? (data[0] % 64) * 16 + 1 : 1;
  if (size > 0) in = in.subspan(1);
  while (!in.empty() && (*conn)->is_open()) {
    std::size_t n = std::min(chunk, in.size());
    (void)(*conn)->feed(in.first(n), g_clock->now());
    (void)(*conn)->take_output();
    in = in.subspan(n);
  }
  return 0;
}
