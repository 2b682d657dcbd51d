// `armored pki`: the fleet PKI (init, issue, fleet, revoke, list, verify).
// The library (pki/pki.h) checks every input before writing; this file maps
// its errors to exit codes (input errors 2, failures 1) and prints results.
// It never reads or prints key material: only paths to key files.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/clock.h"
#include "pki/pki.h"

namespace {

using nlohmann::json;
namespace pki = armored::pki;
using armored::cli::Context;

constexpr int kMaxDays = 36500;

struct PkiOptions {
  std::string dir;
  std::string name = "Armored Fleet CA";
  int days = 0;
  std::string role;
  std::string id;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  long long count = 0;
  std::string prefix = "wearable";
  std::string file;
};

pki::TimePoint now() { return armored::SystemClock().now(); }

// Exits 2 when the user can fix the cause (pki::is_input_error), else 1.
[[noreturn]] void raise(const pki::Error& e) { throw armored::cli::Failure(e); }

template <typename T>
T check(pki::PkiResult<T> r) {
  if (!r) raise(r.error());
  return std::move(r).value();
}

void check(const pki::PkiStatus& s) {
  if (!s) raise(s.error());
}

pki::Authority open_pki(const std::string& dir, pki::Authority::Access access) {
  return check(pki::Authority::open(dir, access));
}

json identity_json(const pki::Identity& i) {
  json j{{"id", i.id},
         {"role", pki::role_name(i.role)},
         {"serial", i.serial},
         {"not_before", pki::format_time(i.not_before)},
         {"not_after", pki::format_time(i.not_after)},
         {"revoked", i.revoked_at.has_value()}};
  if (!i.dns.empty()) j["dns"] = i.dns;
  if (!i.ips.empty()) j["ip"] = i.ips;
  if (i.revoked_at) j["revoked_at"] = pki::format_time(*i.revoked_at);
  return j;
}

json files_json(const pki::IssuedFiles& f) {
  json j = identity_json(f.identity);
  j["certificate"] = f.cert.string();
  j["key"] = f.key.string();
  j["chain"] = f.chain.string();
  j["fullchain"] = f.fullchain.string();
  return j;
}

void add_dir(CLI::App* cmd, PkiOptions& o) {
  cmd->add_option("--dir", o.dir, "PKI directory")->required()->type_name("DIR");
}

void add_days(CLI::App* cmd, PkiOptions& o, int def, const char* what) {
  o.days = def;
  cmd->add_option("--days", o.days, std::string("Validity of ") + what + " in days")
      ->check(CLI::Range(1, kMaxDays))
      ->capture_default_str();
}

void run_init(const PkiOptions& o, const Context& ctx) {
  pki::InitOptions init;
  init.name = o.name;
  init.validity = pki::validity_for_days(now(), o.days);
  auto authority = check(pki::Authority::create(o.dir, init, now()));
  const auto& d = authority.dir();
  if (ctx.json) {
    std::cout << json{{"dir", d.string()},
                      {"name", init.name},
                      {"root_certificate", pki::Authority::root_cert_path(d).string()},
                      {"issuing_certificate", pki::Authority::issuing_cert_path(d).string()},
                      {"chain", pki::Authority::chain_path(d).string()},
                      {"crl", pki::Authority::crl_path(d).string()},
                      {"not_after", pki::format_time(init.validity.not_after)}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << "Created PKI \"" << init.name << "\" in " << d.string() << " (valid until "
            << pki::format_time(init.validity.not_after) << ")\n"
            << "  root CA:    " << pki::Authority::root_cert_path(d).string() << "\n"
            << "  issuing CA: " << pki::Authority::issuing_cert_path(d).string() << "\n"
            << "  chain:      " << pki::Authority::chain_path(d).string() << "\n"
            << "  CRL:        " << pki::Authority::crl_path(d).string() << "\n"
            << "The root CA key (" << (d / "private" / "root-ca.key").string()
            << ") is not needed to issue or revoke: keep it offline.\n";
}

void run_issue(const PkiOptions& o, const Context& ctx) {
  auto role = pki::parse_role(o.role);
  if (!role) throw armored::cli::UsageError("unknown role '" + o.role + "' (cloud, gateway or device)");
  // Checked before opening the PKI, so the message is about the ID, not the directory.
  check(pki::validate_id(o.id));
  auto authority = open_pki(o.dir, pki::Authority::Access::read_write);
  pki::IssueRequest req;
  req.role = *role;
  req.id = o.id;
  req.dns = o.dns;
  req.ips = o.ips;
  req.validity = pki::validity_for_days(now(), o.days);
  auto files = check(authority.issue(req, now()));
  if (ctx.json) {
    std::cout << files_json(files).dump() << "\n";
    return;
  }
  std::cout << "Issued " << pki::role_name(*role) << " identity " << o.id << " (serial "
            << files.identity.serial << ", valid until " << pki::format_time(files.identity.not_after)
            << ")\n"
            << "  certificate: " << files.cert.string() << "\n"
            << "  full chain:  " << files.fullchain.string() << " (certificate + issuing CA: give this to clients)\n"
            << "  key:         " << files.key.string() << " (mode 0600)\n"
            << "  chain:       " << files.chain.string() << "\n";
}

// Progress on stderr: one line rewritten in place on a terminal, otherwise a
// line per 10% so logs stay short.
class ProgressLine {
 public:
  explicit ProgressLine(std::size_t total) : tty_(::isatty(STDERR_FILENO) == 1), total_(total) {}
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  // An interrupted run still ends the line, so an error message starts on its own.
  ~ProgressLine() {
    if (open_line_) std::fputc('\n', stderr);
  }
  void update(std::size_t done) {
    std::size_t pct = total_ ? done * 100 / total_ : 100;
    if (tty_) {
      std::fprintf(stderr, "\rissuing device identities: %zu/%zu (%zu%%)", done, total_, pct);
      open_line_ = done != total_;
      if (done == total_) std::fputc('\n', stderr);
    } else if (pct / 10 > last_decile_ || done == total_) {
      last_decile_ = pct / 10;
      std::fprintf(stderr, "issuing device identities: %zu/%zu (%zu%%)\n", done, total_, pct);
    }
    std::fflush(stderr);
  }

 private:
  bool tty_;
  std::size_t total_;
  std::size_t last_decile_ = 0;
  bool open_line_ = false;
};

void run_fleet(const PkiOptions& o, const Context& ctx) {
  auto authority = open_pki(o.dir, pki::Authority::Access::read_write);
  pki::FleetRequest req;
  req.prefix = o.prefix;
  req.count = static_cast<std::size_t>(o.count);
  req.validity = pki::validity_for_days(now(), o.days);
  ProgressLine line(req.count);
  auto start = std::chrono::steady_clock::now();
  auto issued = check(authority.issue_fleet(req, now(), [&](std::size_t d, std::size_t) { line.update(d); }));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (ctx.json) {
    json ids = json::array();
    for (const auto& f : issued) ids.push_back({{"id", f.identity.id}, {"serial", f.identity.serial}});
    std::cout << json{{"count", issued.size()},
                      {"seconds", secs},
                      {"directory", (authority.dir() / "device").string()},
                      {"chain", pki::Authority::chain_path(authority.dir()).string()},
                      {"identities", ids}}
                     .dump()
              << "\n";
    return;
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.2f", secs);
  std::cout << "Issued " << issued.size() << " device identities " << issued.front().identity.id
            << " .. " << issued.back().identity.id << " in " << took << " s, each with its own key\n"
            << "  files: " << (authority.dir() / "device").string() << "/<id>.crt, <id>.fullchain.pem and <id>.key (0600)\n";
}

void run_revoke(const PkiOptions& o, const Context& ctx) {
  auto authority = open_pki(o.dir, pki::Authority::Access::read_write);
  check(authority.revoke(o.id, now()));
  auto crl = pki::Authority::crl_path(authority.dir()).string();
  if (ctx.json) {
    std::cout << json{{"id", o.id}, {"revoked", true}, {"crl", crl}}.dump() << "\n";
    return;
  }
  std::cout << "Revoked " << o.id << "; " << crl << " now lists it\n";
}

void run_crl(const PkiOptions& o, const Context& ctx) {
  auto authority = open_pki(o.dir, pki::Authority::Access::read_write);
  auto t = now();
  check(authority.refresh_crl(t));
  auto crl = pki::Authority::crl_path(authority.dir()).string();
  std::string next = pki::format_time(t + pki::kCrlValidity);
  if (ctx.json) {
    std::cout << json{{"crl", crl}, {"next_update", next}}.dump() << "\n";
    return;
  }
  std::cout << "Re-signed " << crl << " (next update " << next << ")\n";
}

void run_list(const PkiOptions& o, const Context& ctx) {
  auto authority = open_pki(o.dir, pki::Authority::Access::read_only);
  auto entries = authority.list(now());
  std::map<std::string, std::size_t> per_role;
  std::size_t revoked = 0, expiring = 0, expired = 0;
  for (const auto& e : entries) {
    ++per_role[std::string(pki::role_name(e.identity.role))];
    revoked += e.revoked;
    expiring += e.expiring_soon;
    expired += e.expired;
  }
  if (ctx.json) {
    json rows = json::array();
    for (const auto& e : entries) {
      json j = identity_json(e.identity);
      j["expired"] = e.expired;
      j["expiring_soon"] = e.expiring_soon;
      rows.push_back(std::move(j));
    }
    std::cout << json{{"identities", rows},
                      {"summary",
                       {{"total", entries.size()},
                        {"cloud", per_role["cloud"]},
                        {"gateway", per_role["gateway"]},
                        {"device", per_role["device"]},
                        {"revoked", revoked},
                        {"expiring_soon", expiring},
                        {"expired", expired}}}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%-24s %-8s %-34s %-21s %s\n", "ID", "ROLE", "SERIAL", "EXPIRES", "FLAGS");
  for (const auto& e : entries) {
    std::string flags;
    if (e.revoked) flags += "revoked ";
    if (e.expired) flags += "expired ";
    if (e.expiring_soon) flags += "expiring-soon ";
    std::printf("%-24s %-8s %-34s %-21s %s\n", e.identity.id.c_str(),
                std::string(pki::role_name(e.identity.role)).c_str(), e.identity.serial.c_str(),
                pki::format_time(e.identity.not_after).c_str(), flags.c_str());
  }
  std::printf("%zu identities (%zu cloud, %zu gateway, %zu device): %zu revoked, %zu expiring within 30 days, %zu expired\n",
              entries.size(), per_role["cloud"], per_role["gateway"], per_role["device"], revoked,
              expiring, expired);
}

void run_verify(const PkiOptions& o, Context& ctx) {
  auto authority = open_pki(o.dir, pki::Authority::Access::read_only);
  auto report = check(authority.verify_file(o.file, now()));
  ctx.exit_code = report.acceptable ? 0 : 1;
  std::string role = report.role ? std::string(pki::role_name(*report.role)) : "";
  if (ctx.json) {
    json j{{"file", o.file},
           {"acceptable", report.acceptable},
           {"reasons", report.reasons},
           {"subject", report.subject},
           {"serial", report.serial},
           {"role", report.role ? json(role) : json(nullptr)}};
    if (report.not_after) j["not_after"] = pki::format_time(*report.not_after);
    std::cout << j.dump() << "\n";
    return;
  }
  if (report.acceptable) {
    std::cout << o.file << ": acceptable " << role << " certificate (" << report.subject
              << ", serial " << report.serial << ")\n";
    return;
  }
  std::cout << o.file << ": NOT acceptable (" << report.subject << ", serial " << report.serial << ")\n";
  for (const auto& r : report.reasons) std::cout << "  - " << r << "\n";
}

}  // namespace

namespace armored::cli {

void add_pki(CLI::App& app, Context& ctx) {
  auto* pki_cmd = app.add_subcommand(
      "pki",
      "Fleet PKI: a root and an issuing CA, one key and certificate per cloud, gateway and\n"
      "device, revocation (crl.pem) and checks. Keys are ECDSA P-256, written 0600.");
  pki_cmd->require_subcommand(1);
  // Each subcommand owns its options, so one's defaults never leak into another's.
  auto o = std::make_shared<PkiOptions>();

  auto* init = pki_cmd->add_subcommand(
      "init", "Create a new PKI in DIR: root CA, issuing CA, empty CRL, index.\n"
              "Refuses an existing PKI or a non-empty directory.");
  add_dir(init, *o);
  init->add_option("--name", o->name, "Name of the root CA (the issuing CA adds \" Issuing CA\")")
      ->capture_default_str();
  add_days(init, *o, 3650, "both CA certificates");
  init->callback([o, &ctx] { run_init(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* issue = pki_cmd->add_subcommand(
      "issue", "Issue one identity: a fresh key pair and certificate in DIR/<role>/<id>.{key,crt}.\n"
               "cloud: serverAuth, subjectAltName DNS/IP (at least one --dns or --ip).\n"
               "gateway, device: clientAuth, subjectAltName URI urn:armored:<role>:<id>.");
  issue->add_option("role", o->role, "cloud, gateway or device")
      ->required()
      ->check(CLI::IsMember({"cloud", "gateway", "device"}));
  issue->add_option("--id", o->id, "Identity ID: 1-64 of A-Z a-z 0-9 . _ - (not starting with .)")
      ->required();
  // One value per flag (--dns a --dns b), so a value never swallows the role positional.
  issue->add_option("--dns", o->dns, "DNS name for a cloud identity (repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  issue->add_option("--ip", o->ips, "IP address for a cloud identity (repeatable)")
      ->type_name("ADDR")
      ->allow_extra_args(false);
  add_days(issue, *o, 365, "the certificate");
  add_dir(issue, *o);
  issue->callback([o, &ctx] { run_issue(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* fleet = pki_cmd->add_subcommand(
      "fleet", "Provision N device identities <prefix>-0001.., each with its own key, on all\n"
               "cores; progress on stderr. All IDs must be new.");
  fleet->add_option("--count", o->count, "Number of devices")
      ->required()
      ->check(CLI::Range(1LL, static_cast<long long>(pki::kMaxFleet)));
  fleet->add_option("--prefix", o->prefix, "ID prefix")->capture_default_str();
  add_days(fleet, *o, 365, "each certificate");
  add_dir(fleet, *o);
  fleet->callback([o, &ctx] { run_fleet(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* revoke = pki_cmd->add_subcommand(
      "revoke", "Revoke an identity and re-sign DIR/crl.pem (valid 30 days, signed by the issuing CA).");
  revoke->add_option("--id", o->id, "Identity ID")->required();
  add_dir(revoke, *o);
  revoke->callback([o, &ctx] { run_revoke(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* crl = pki_cmd->add_subcommand(
      "crl", "Re-sign DIR/crl.pem with the same revocations. A CRL is valid 30 days: run this\n"
             "regularly (e.g. weekly from cron) so TLS peers never see an expired CRL.");
  add_dir(crl, *o);
  crl->callback([o, &ctx] { run_crl(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* list = pki_cmd->add_subcommand(
      "list", "List every identity: role, serial, expiry, flags (revoked, expired,\n"
              "expiring-soon = within 30 days); a summary line last.");
  add_dir(list, *o);
  list->callback([o, &ctx] { run_list(*o, ctx); });

  o = std::make_shared<PkiOptions>();
  auto* verify = pki_cmd->add_subcommand(
      "verify", "Check a certificate against the PKI: chain to the root, validity period, CRL,\n"
                "EKU and SAN for its role. Exit 0 if acceptable, 1 (with reasons) if not.");
  verify->add_option("file", o->file, "Certificate (PEM, at most 64 KiB)")->required()->type_name("FILE.crt");
  add_dir(verify, *o);
  verify->callback([o, &ctx] { run_verify(*o, ctx); });
}

}  // namespace armored::cli
