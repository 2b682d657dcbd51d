// Wire facts for `armored energy`, measured from Armored's own code: E3
// envelope sizes from the sealer's size function and TLS handshake bytes
// from real handshakes between our TLS client and server, in memory, with a
// throwaway PKI of the same shape as a real fleet's.

#include "cli/energy_wire.h"


#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "common/file_io.h"
#include "crypto/aead.h"
#include "e3/wire.h"
#include "pki/pki.h"
#include "tls/connection.h"
#include "tls/context.h"

namespace armored::cli {
namespace fs = std::filesystem;

namespace {

crypto::AeadAlg to_alg(energy::Aead a) {
  switch (a) {
    case energy::Aead::kAes128Gcm: return crypto::AeadAlg::kAes128Gcm;
    case energy::Aead::kAes256Gcm: return crypto::AeadAlg::kAes256Gcm;
    case energy::Aead::kChaCha20Poly1305: return crypto::AeadAlg::kChaCha20Poly1305;
    case energy::Aead::kAesCcm16_64_128: return crypto::AeadAlg::kAesCcm16_64_128;
  }
  return crypto::AeadAlg::kAes128Gcm;
}

// A directory removed on scope exit.
struct ScratchDir {
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "armored-energy-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  fs::path path;
};

struct Measured {
  energy::HandshakeWire wire;
  std::optional<Bytes> session;
  bool early_accepted = false;
};

// Runs one handshake client<->server in memory, counting bytes each way,
// until the server has the first application byte and the client has a ticket.
Expected<Measured> handshake(tls::TlsContext& cctx, tls::TlsContext& sctx, std::optional<Bytes> session,
                             bool early, Clock& clock) {
  tls::ClientOptions co;
  co.server_name = "localhost";
  co.session = std::move(session);
  const Bytes reading(76, 0x5a);  // one sealed reading as the first application bytes
  if (early) co.early_data = reading;
  auto client = tls::Connection::client(cctx, co);
  if (!client) return unexpected(client.error());
  auto server = tls::Connection::server(sctx);
  if (!server) return unexpected(server.error());
  Measured m;
  bool server_got_data = false, client_done = false, ticket = false;
  unsigned flights_before_data = 0;
  auto absorb_client = [&](std::vector<tls::Event> evs) -> Status {
    for (auto& e : evs) {
      if (auto* f = std::get_if<tls::Failed>(&e)) return fail("client: " + f->error.message);
      if (std::get_if<tls::HandshakeComplete>(&e)) {
        client_done = true;
        if (!early) {
          if (auto w = (*client)->write(reading); !w) return fail(w.error());
        }
      }
      if (auto* t = std::get_if<tls::NewSessionTicket>(&e)) {
        m.session = t->der;
        ticket = true;
      }
    }
    return {};
  };
  auto absorb_server = [&](std::vector<tls::Event> evs) -> Status {
    for (auto& e : evs) {
      if (auto* f = std::get_if<tls::Failed>(&e)) return fail("server: " + f->error.message);
      if (auto* hc = std::get_if<tls::HandshakeComplete>(&e)) m.early_accepted = hc->early_data_accepted;
      if (auto* ad = std::get_if<tls::ApplicationData>(&e)) {
        server_got_data = true;
        if (ad->arrived_as_early_data) m.early_accepted = true;
      }
    }
    return {};
  };
  ARMORED_TRY(absorb_client((*client)->start(clock.now())));
  for (int round = 0; round < 10 && !(server_got_data && client_done && ticket); ++round) {
    Bytes up = (*client)->take_output();
    m.wire.bytes_up += static_cast<unsigned>(up.size());
    if (!up.empty()) {
      ARMORED_TRY(absorb_server((*server)->feed(up, clock.now())));
      if (server_got_data) break;
    }
    Bytes down = (*server)->take_output();
    m.wire.bytes_down += static_cast<unsigned>(down.size());
    if (!down.empty()) ARMORED_TRY(absorb_client((*client)->feed(down, clock.now())));
    ++flights_before_data;  // one round trip completed without the data arriving
  }
  // A ticket that follows the server's handshake flight counts as handshake bytes too.
  Bytes down = (*server)->take_output();
  m.wire.bytes_down += static_cast<unsigned>(down.size());
  if (!down.empty()) ARMORED_TRY(absorb_client((*client)->feed(down, clock.now())));
  if (!server_got_data) return fail("in-process handshake did not deliver application data");
  m.wire.round_trips_before_data = flights_before_data;
  // The reading itself is not handshake overhead.
  m.wire.bytes_up -= std::min<unsigned>(m.wire.bytes_up, static_cast<unsigned>(reading.size() + 22));
  return m;
}

}  // namespace

Expected<energy::WireFacts> measure_wire_facts(unsigned reading_bytes) {
  energy::WireFacts w;
  for (energy::Aead a : energy::kAllAeads) {
    // A 3-byte kid (the enrolment default) and a sequence number needing
    // 2 bytes: a day of readings every 30 s.
    w.envelope_bytes[static_cast<std::size_t>(a)] =
        static_cast<unsigned>(e3::sealed_size(to_alg(a), reading_bytes, 3, 2880));
  }

  ScratchDir dir;
  if (dir.path.empty()) return fail("cannot create a temporary directory");
  SystemClock clock;
  auto now = clock.now();
  pki::InitOptions io;
  io.validity = pki::validity_for_days(now, 2);
  auto created = pki::Authority::create(dir.path / "pki", io, now);
  if (!created) return fail(created.error());
  auto ca = pki::Authority::open(dir.path / "pki", pki::Authority::Access::read_write);
  if (!ca) return fail(ca.error());
  pki::IssueRequest cloud_req;
  cloud_req.role = pki::Role::cloud;
  cloud_req.id = "cloud";
  cloud_req.dns = {"localhost"};
  cloud_req.validity = pki::validity_for_days(now, 1);
  auto cloud = ca->issue(cloud_req, now);
  if (!cloud) return fail(cloud.error());
  pki::IssueRequest dev_req;
  dev_req.role = pki::Role::device;
  dev_req.id = "dev-energy";
  dev_req.validity = pki::validity_for_days(now, 1);
  auto dev = ca->issue(dev_req, now);
  if (!dev) return fail(dev.error());

  // Leaf then issuing CA: the chain each side presents.
  auto fullchain = [&](const fs::path& leaf, const std::string& name) -> Expected<fs::path> {
    auto a = read_text_file(leaf);
    auto b = read_text_file(pki::Authority::issuing_cert_path(dir.path / "pki"));
    if (!a || !b) return fail("cannot read the scratch PKI");
    fs::path out = dir.path / name;
    ARMORED_TRY(write_file_atomic(out, as_bytes(*a + *b), 0644));
    return out;
  };
  auto cloud_chain = fullchain(cloud->cert, "cloud-chain.pem");
  auto dev_chain = fullchain(dev->cert, "dev-chain.pem");
  if (!cloud_chain || !dev_chain) return fail("cannot write the scratch PKI chains");
  tls::TlsConfig sc;
  sc.role = tls::Role::kServer;
  sc.ca_file = pki::Authority::root_cert_path(dir.path / "pki");
  sc.cert_chain = *cloud_chain;
  sc.key_file = cloud->key;
  sc.crl_file = pki::Authority::crl_path(dir.path / "pki");
  tls::TlsConfig cc = sc;
  cc.role = tls::Role::kClient;
  cc.cert_chain = *dev_chain;
  cc.key_file = dev->key;
  auto sctx = tls::TlsContext::create(sc, clock);
  if (!sctx) return unexpected(sctx.error());
  auto cctx = tls::TlsContext::create(cc, clock);
  if (!cctx) return unexpected(cctx.error());

  auto full = handshake(**cctx, **sctx, std::nullopt, false, clock);
  if (!full) return unexpected(full.error());
  if (!full->session) return fail("the server issued no session ticket");
  auto resumed = handshake(**cctx, **sctx, full->session, false, clock);
  if (!resumed) return unexpected(resumed.error());
  auto zero = handshake(**cctx, **sctx, resumed->session ? resumed->session : full->session, true, clock);
  if (!zero) return unexpected(zero.error());
  w.full = full->wire;
  w.resumed = resumed->wire;
  w.zero_rtt = zero->wire;
  w.source = "E3 envelope sizes from the E3 sealer; TLS 1.3 handshakes (mutual TLS, P-256 certificates "
             "from a fleet PKI) measured in process by Armored's TLS layer" +
             std::string(zero->early_accepted ? "" : " (0-RTT was refused)");
  return w;
}

}  // namespace armored::cli
