#include "audit/fleet_audit.h"

#include <algorithm>
#include <system_error>

#include "common/file_io.h"
#include "ossl/ossl.h"
#include "pki/index.h"
#include "store/store.h"

namespace armored::audit {

namespace fs = std::filesystem;

namespace {

SysSeconds to_sys(pki::TimePoint t) {
  return SysSeconds(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()));
}

Expected<CertFacts> load_cert(const fs::path& path) {
  auto text = read_text_file(path, kMaxFleetPemBytes);
  if (!text) return unexpected(text.error());
  auto facts = read_certificate(*text);
  if (!facts) return fail(path.filename().string(), facts.error());
  return facts;
}

void read_cas(const fs::path& dir, FleetInventory& inv, std::vector<std::string>& skipped) {
  for (auto [file, name] : {std::pair{"root-ca.crt", "root CA"}, std::pair{"issuing-ca.crt", "issuing CA"}}) {
    auto facts = load_cert(dir / file);
    if (!facts) {
      skipped.push_back(std::string(file) + ": " + facts.error().message);
      continue;
    }
    FleetCert c;
    c.identity = name;
    c.role = "ca";
    c.path = file;
    c.facts = std::move(*facts);
    inv.cas.push_back(std::move(c));
  }
}

void read_crl_file(const fs::path& dir, FleetInventory& inv) {
  auto text = read_text_file(dir / "crl.pem", kMaxFleetCrlBytes);
  if (!text) {
    inv.crl_problem = text.error().message;
    return;
  }
  auto issuer = read_text_file(dir / "issuing-ca.crt", kMaxFleetPemBytes);
  if (!issuer) {
    inv.crl_problem = "cannot check its signature: " + issuer.error().message;
    return;
  }
  auto crl = read_crl(*text, *issuer);
  if (!crl) {
    inv.crl_problem = crl.error().message;
    return;
  }
  inv.crl = std::move(*crl);
}

}  // namespace

Expected<FleetInventory> read_fleet_inventory(const fs::path& dir, std::vector<std::string>& skipped) {
  auto index_text = read_text_file(dir / "pki.json", kMaxFleetIndexBytes);
  if (!index_text) return fail("no PKI index in " + dir.string(), index_text.error());
  auto index = pki::Index::from_json(*index_text);
  if (!index) return fail((dir / "pki.json").string() + " is damaged", index.error());

  FleetInventory inv;
  read_cas(dir, inv, skipped);
  read_crl_file(dir, inv);
  std::size_t files = 0;
  for (const char* role : {"cloud", "gateway", "device"}) {
    std::error_code ec;
    fs::directory_iterator it(dir / role, ec), end;
    std::vector<fs::path> paths;
    for (; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() != ".crt" || !it->is_regular_file(ec)) continue;
      if (++files > kMaxFleetCertFiles) return fail("more than " + std::to_string(kMaxFleetCertFiles) + " certificate files");
      paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      std::string rel = std::string(role) + "/" + p.filename().string();
      auto facts = load_cert(p);
      if (!facts) {
        skipped.push_back(rel + ": " + facts.error().message);
        continue;
      }
      FleetCert c;
      c.identity = p.stem().string();
      c.role = role;
      c.path = rel;
      c.facts = std::move(*facts);
      if (const pki::Identity* row = index->find(c.identity); row && pki::role_name(row->role) == role) {
        c.indexed = true;
        c.index_serial = ossl::normal_serial(row->serial);
        if (row->revoked_at) c.revoked_at = to_sys(*row->revoked_at);
      }
      inv.leaves.push_back(std::move(c));
    }
  }
  return inv;
}

namespace {

Expected<std::unique_ptr<store::Store>> open_store(const FleetOptions& o, std::string& source) {
  if (!o.sqlite_path.empty()) {
    std::error_code ec;
    // open_sqlite creates a missing file: a typo must not audit an empty store.
    if (!fs::is_regular_file(o.sqlite_path, ec)) return fail("no such database file: " + o.sqlite_path.string());
    source = "sqlite " + o.sqlite_path.string();
    auto s = store::open_sqlite(o.sqlite_path);
    if (!s) return fail(s.error());
    return std::move(*s);
  }
  source = "postgresql schema " + o.postgres_schema;
  store::PostgresOptions po;
  po.conninfo = o.postgres_conninfo;
  po.schema = o.postgres_schema;
  auto s = store::open_postgres(po);
  if (!s) return fail(s.error());
  return std::move(*s);
}

// The audit trail's connection events and the devices with stored readings.
Expected<ConnectionFacts> read_connections(store::Store& s, std::vector<std::string>& notes) {
  ConnectionFacts facts;
  auto total = s.count_events(std::nullopt);
  if (!total) return fail("audit trail", total.error());
  if (*total > kMaxFleetEvents) {
    notes.push_back("audit trail: only the newest " + std::to_string(kMaxFleetEvents) + " of " +
                    std::to_string(*total) + " events read");
  }
  auto events = s.recent_events(std::min<std::size_t>(*total, kMaxFleetEvents));
  if (!events) return fail("audit trail", events.error());
  for (const auto& e : *events) {
    if (e.kind != store::EventKind::kConnected) continue;
    Connection c;
    c.at = SysSeconds(std::chrono::seconds(e.at_ms / 1000));
    c.identity = e.peer;
    c.serial = ossl::normal_serial(event_field(e.detail, "serial"));
    if (c.serial == "00") c.serial.clear();  // "unknown" (no certificate) reads as ""
    c.from = event_field(e.detail, "from");
    facts.connections.push_back(std::move(c));
  }
  store::Store::GapTotals totals;
  auto gaps = s.sequence_gaps(kMaxFleetGaps, &totals);
  if (!gaps) return fail("stored ranges", gaps.error());
  for (const auto& g : *gaps) {
    facts.gaps.push_back({g.device, g.epoch, g.first_missing, g.last_missing,
                          SysSeconds(std::chrono::seconds(g.before_ms / 1000))});
  }
  facts.gaps_total = totals.gaps;
  facts.missing_total = totals.missing;
  if (totals.gaps > gaps->size()) {
    notes.push_back("readings missing: only the first " + std::to_string(gaps->size()) + " of " +
                    std::to_string(totals.gaps) + " gaps listed (armored report gaps lists them all)");
  }
  auto readings = s.count_readings();
  if (readings && *readings <= kMaxFleetReadingKeys) {
    auto keys = s.reading_keys();
    if (!keys) return fail("readings", keys.error());
    for (const auto& k : *keys) facts.seen.insert(k.device);
  } else if (readings) {
    notes.push_back("readings not scanned (" + std::to_string(*readings) +
                    " rows): devices behind gateways count as connected only by their own handshakes");
  }
  return facts;
}

}  // namespace

Expected<Report> audit_fleet(const FleetOptions& o) {
  Report report;
  report.command = "fleet";
  report.targets.push_back(o.pki_dir.string());
  report.rules = fleet_rules();
  std::vector<std::string> notes;
  auto inv = read_fleet_inventory(o.pki_dir, notes);
  if (!inv) return unexpected(inv.error());

  std::optional<ConnectionFacts> conns;
  if (!o.sqlite_path.empty() || !o.postgres_conninfo.empty()) {
    std::string source;
    auto s = open_store(o, source);
    if (!s) return unexpected(s.error());
    auto c = read_connections(**s, notes);
    if (!c) return unexpected(c.error());
    conns = std::move(*c);
    conns->source = source;
    report.targets.push_back(source);
  }
  report.findings = check_fleet(*inv, conns ? &*conns : nullptr, o.checks);

  std::size_t revoked = 0;
  for (const auto& c : inv->leaves) revoked += c.revoked_at ? 1 : 0;
  report.summary.push_back(std::to_string(inv->leaves.size()) + " identity certificates, " +
                           std::to_string(inv->cas.size()) + " CA certificates, " + std::to_string(revoked) +
                           " revoked; expiry window " + std::to_string(o.checks.expiry_days) + " days");
  report.summary.push_back(inv->crl ? "CRL number " + std::to_string(inv->crl->number) + " lists " +
                                          std::to_string(inv->crl->revoked.size()) + " serials"
                                    : "CRL unusable: " + inv->crl_problem);
  if (conns) {
    report.summary.push_back(std::to_string(conns->connections.size()) + " connections in " + conns->source + ", " +
                             std::to_string(conns->seen.size()) + " devices with stored readings, " +
                             std::to_string(conns->missing_total) + " readings missing in " +
                             std::to_string(conns->gaps_total) + " gaps");
  } else {
    report.summary.push_back("no audit trail given (--db or --postgres): connection checks skipped");
  }
  for (const auto& n : notes) report.summary.push_back(n);
  report.details = {{"identity_certificates", inv->leaves.size()},
                    {"ca_certificates", inv->cas.size()},
                    {"revoked", revoked},
                    {"crl_number", inv->crl ? inv->crl->number : 0},
                    {"connections", conns ? conns->connections.size() : 0},
                    {"expiry_days", o.checks.expiry_days},
                    {"skipped", notes}};
  sort_findings(report);
  return report;
}

}  // namespace armored::audit
