#include "tls/session_store.h"

#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <system_error>

#include "common/file_io.h"
#include "common/log.h"

namespace armored::tls {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'A', 'T', 'K', '1'};
// Tolerated clock step backwards between saving and loading.
constexpr std::int64_t kFutureSkewSeconds = 60;

std::array<std::uint8_t, 32> sha256(ByteSpan b) {
  std::array<std::uint8_t, 32> h{};
  SHA256(b.data(), b.size(), h.data());
  return h;
}

struct Entry {
  std::int64_t saved_at = 0;
  std::uint32_t lifetime = 0;
  std::uint32_t max_early = 0;
  std::uint16_t port = 0;
  std::string host;
  Bytes der;
};

Result<Entry, std::string> parse(ByteSpan file) {
  if (file.size() < 32) return unexpected(std::string("truncated"));
  ByteSpan body = file.first(file.size() - 32);
  if (sha256(body) != [&] {
        std::array<std::uint8_t, 32> h{};
        std::memcpy(h.data(), file.data() + body.size(), 32);
        return h;
      }()) {
    return unexpected(std::string("checksum mismatch"));
  }
  ByteReader r(body);
  ByteSpan magic, host, der;
  std::uint64_t saved = 0;
  std::uint16_t host_len = 0;
  std::uint32_t der_len = 0;
  Entry e;
  if (!r.read_bytes(4, magic) || !std::equal(magic.begin(), magic.end(), kMagic.begin())) {
    return unexpected(std::string("bad magic"));
  }
  if (!r.read_uint_be(8, saved) || !r.read_u32be(e.lifetime) || !r.read_u32be(e.max_early) ||
      !r.read_u16be(e.port) || !r.read_u16be(host_len) || !r.read_bytes(host_len, host) ||
      !r.read_u32be(der_len) || der_len == 0 || !r.read_bytes(der_len, der)) {
    return unexpected(std::string("truncated field"));
  }
  if (!r.empty()) return unexpected(std::string("trailing bytes"));
  e.saved_at = static_cast<std::int64_t>(saved);
  e.host = std::string(as_string(host));
  e.der.assign(der.begin(), der.end());
  return e;
}

}  // namespace

SessionStore::SessionStore(std::filesystem::path dir, Clock& clock, std::chrono::seconds max_age)
    : dir_(std::move(dir)), clock_(clock), max_age_(max_age) {}

std::filesystem::path SessionStore::path_for(const std::string& host, std::uint16_t port) const {
  std::string name;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    name += ok ? c : '_';
  }
  return dir_ / (name + "_" + std::to_string(port) + ".ticket");
}

std::optional<Bytes> SessionStore::load(const std::string& host, std::uint16_t port) const {
  auto path = path_for(host, port);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  auto file = read_file(path, kMaxEntryBytes);
  if (!file) {
    spdlog::warn("tls: ignoring session ticket {}: {}", path.string(), file.error().message);
    return std::nullopt;
  }
  auto entry = parse(*file);
  if (!entry) {
    spdlog::warn("tls: ignoring corrupt session ticket {}: {}", path.string(), entry.error());
    return std::nullopt;
  }
  if (entry->host != host || entry->port != port) {
    spdlog::warn("tls: ignoring session ticket {}: saved for another server", path.string());
    return std::nullopt;
  }
  std::int64_t now = unix_seconds(clock_.now());
  std::int64_t age = now - entry->saved_at;
  std::int64_t limit = std::min<std::int64_t>(entry->lifetime, max_age_.count());
  if (age < -kFutureSkewSeconds || age >= limit) {
    spdlog::warn("tls: ignoring stale session ticket for {}:{} (age {} s, limit {} s)", host, port, age, limit);
    return std::nullopt;
  }
  return std::move(entry->der);
}

Status SessionStore::save(const std::string& host, std::uint16_t port, const NewSessionTicket& t) {
  if (host.size() > 255 || t.der.empty() || t.der.size() > kMaxEntryBytes - 128) {
    return fail("session ticket for " + host + " has an unusable size");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return fail("cannot create ticket directory " + dir_.string() + ": " + ec.message());
  Bytes out;
  ByteWriter w(out);
  w.bytes(kMagic);
  std::uint64_t saved = static_cast<std::uint64_t>(unix_seconds(clock_.now()));
  w.u32be(static_cast<std::uint32_t>(saved >> 32));
  w.u32be(static_cast<std::uint32_t>(saved));
  w.u32be(t.lifetime_seconds);
  w.u32be(t.max_early_data);
  w.u16be(port);
  w.u16be(static_cast<std::uint16_t>(host.size()));
  w.str(host);
  w.u32be(static_cast<std::uint32_t>(t.der.size()));
  w.bytes(t.der);
  auto h = sha256(out);
  w.bytes(h);
  return write_file_atomic(path_for(host, port), out, 0600);
}

void SessionStore::forget(const std::string& host, std::uint16_t port) {
  std::error_code ec;
  std::filesystem::remove(path_for(host, port), ec);
}

}  // namespace armored::tls
