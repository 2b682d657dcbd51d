#include "quickstart/quickstart.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <system_error>

#include "common/file_io.h"
#include "pki/pki.h"
#include "provision/enroll.h"

namespace armored::quickstart {

namespace fs = std::filesystem;

const std::vector<std::string_view> kMadeHere = {
    "pki",           "e3",
    "cloud.toml",    "gateway.toml",
    "armored.db",    "armored.db-wal",
    "armored.db-shm", "armored-cloud.e3state",
    "armored-cloud.tickets", "cloud.sock",
    "gateway-spool", "gateway-tickets",
    "device-state",  "envelope.hex",
};

namespace {

constexpr std::size_t kMaxDevices = 10000;
constexpr int kCaDays = 3650;
constexpr int kLeafDays = 365;

Unexpected<Error> bad_input(std::string m) { return {Error{ErrorCode::kBadInput, std::move(m)}}; }
Unexpected<Error> failed(std::string m) { return {Error{ErrorCode::kFailed, std::move(m)}}; }

Unexpected<Error> from_pki(const pki::Error& e, std::string_view step) {
  return {Error{pki::is_input_error(e) ? ErrorCode::kBadInput : ErrorCode::kFailed,
                std::string(step) + ": " + e.message}};
}

// DIR may be new or empty; a non-empty one only with --force, and then only
// what a quickstart makes there is removed.
QuickstartResult<std::vector<std::string>> prepare_dir(const Options& o) {
  std::error_code ec;
  const auto st = fs::status(o.dir, ec);  // a symlink to a directory is that directory
  std::vector<std::string> removed;
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) return bad_input(o.dir.string() + " exists and is not a directory");
    std::vector<std::string> present;
    for (const auto& e : fs::directory_iterator(o.dir, ec)) present.push_back(e.path().filename().string());
    if (ec) return bad_input("cannot read " + o.dir.string() + ": " + ec.message());
    std::sort(present.begin(), present.end());
    if (!present.empty() && !o.force) {
      std::string some;
      for (std::size_t i = 0; i < present.size() && i < 3; ++i) some += (i ? ", " : "") + present[i];
      if (present.size() > 3) some += ", ...";
      return unexpected(Error{ErrorCode::kNotEmpty,
                    o.dir.string() + " is not empty (" + some +
                        "): give a new directory, or add --force to replace what quickstart makes there"});
    }
    for (const auto& name : present) {
      if (std::find(kMadeHere.begin(), kMadeHere.end(), name) == kMadeHere.end()) continue;
      fs::remove_all(o.dir / name, ec);
      if (ec) return failed("cannot remove " + (o.dir / name).string() + ": " + ec.message());
      removed.push_back(name);
    }
  } else {
    fs::create_directories(o.dir, ec);
    if (ec) return bad_input("cannot create " + o.dir.string() + ": " + ec.message());
  }
  // It will hold private keys: owner only, whatever the umask.
  if (::chmod(o.dir.c_str(), 0700) != 0) return failed("cannot make " + o.dir.string() + " owner-only (0700)");
  return removed;
}

std::string cloud_toml(const Setup& s) {
  return "# Written by `armored quickstart`: the cloud of this directory. Every option, its\n"
         "# default and why: config/cloud.toml in the Armored source. Paths are relative to\n"
         "# this file.\n"
         "[listen]\n"
         "address = \"127.0.0.1\"\n"
         "# Free when this file was written; if another program has taken it since, pick\n"
         "# another here and the same as [cloud] port in gateway.toml.\n"
         "port = " + std::to_string(s.cloud_port) + "\n"
         "\n"
         "[tls]\n"
         "ca = \"pki/root-ca.crt\"\n"
         "certificate = \"pki/cloud/cloud.crt\"\n"
         "intermediates = \"pki/issuing-ca.crt\"\n"
         "key = \"pki/cloud/cloud.key\"\n"
         "crl = \"pki/crl.pem\"\n"
         "\n"
         "[e3]\n"
         "dir = \"e3\"\n"
         "pki_dir = \"pki\"\n"
         "\n"
         "[storage]\n"
         "backend = \"sqlite\"\n"
         "# The admin socket `armored command` uses is cloud.sock beside it.\n"
         "sqlite_path = \"armored.db\"\n"
         "\n"
         "[status]\n"
         "interval_s = 10\n";
}

std::string gateway_toml(const Setup& s) {
  return "# Written by `armored quickstart`: the gateway of this directory. Every option, its\n"
         "# default and why: config/gateway.toml in the Armored source. Paths are relative to\n"
         "# this file.\n"
         "id = \"" + s.gateway_id + "\"\n"
         "\n"
         "[udp]\n"
         "address = \"127.0.0.1\"\n"
         "# Free when this file was written; `armored fleet --gateway-config` reads it here.\n"
         "port = " + std::to_string(s.gateway_port) + "\n"
         "\n"
         "[cloud]\n"
         "host = \"localhost\"\n"
         "port = " + std::to_string(s.cloud_port) + "\n"
         "ca = \"pki/root-ca.crt\"\n"
         "certificate = \"pki/gateway/" + s.gateway_id + ".crt\"\n"
         "intermediates = \"pki/issuing-ca.crt\"\n"
         "key = \"pki/gateway/" + s.gateway_id + ".key\"\n"
         "ticket_dir = \"gateway-tickets\"\n"
         "\n"
         "[spool]\n"
         "dir = \"gateway-spool\"\n"
         "\n"
         "[status]\n"
         "interval_s = 10\n";
}

}  // namespace

QuickstartResult<Setup> create(const Options& o, Clock::TimePoint now, Rng& rng, const Progress& progress) {
  auto step = [&](std::string_view s) {
    if (progress) progress(s);
  };
  if (o.dir.empty()) return bad_input("DIR is empty");
  if (o.devices < 1 || o.devices > kMaxDevices) {
    return bad_input("--devices must be 1.." + std::to_string(kMaxDevices));
  }
  if (auto ok = pki::validate_id(o.device_prefix + "-0001"); !ok) return bad_input("device prefix: " + ok.error().message);
  if (auto ok = pki::validate_id(o.gateway_id); !ok) return bad_input("gateway id: " + ok.error().message);

  auto removed = prepare_dir(o);
  if (!removed) return unexpected(std::move(removed).error());
  std::error_code ec;
  Setup s;
  s.dir = fs::absolute(o.dir, ec).lexically_normal();
  s.removed = std::move(*removed);
  s.gateway_id = o.gateway_id;
  s.devices = o.devices;
  const fs::path pki_dir = s.dir / "pki";

  step("fleet CA (root and issuing CA, empty CRL) in pki/");
  pki::InitOptions init;
  init.name = "Quickstart Fleet CA";
  init.validity = pki::validity_for_days(now, kCaDays);
  if (auto created = pki::Authority::create(pki_dir, init, now); !created) {
    return from_pki(created.error(), "pki init");
  }
  // Issuing needs the directory's write lock, which only open() takes.
  auto authority = pki::Authority::open(pki_dir, pki::Authority::Access::read_write);
  if (!authority) return from_pki(authority.error(), "pki open");

  step("cloud certificate (localhost, 127.0.0.1) and gateway certificate " + o.gateway_id);
  pki::IssueRequest cloud;
  cloud.role = pki::Role::cloud;
  cloud.id = "cloud";
  cloud.dns = {"localhost"};
  cloud.ips = {"127.0.0.1"};
  cloud.validity = pki::validity_for_days(now, kLeafDays);
  if (auto r = authority->issue(cloud, now); !r) return from_pki(r.error(), "pki issue cloud");
  pki::IssueRequest gw;
  gw.role = pki::Role::gateway;
  gw.id = o.gateway_id;
  gw.validity = cloud.validity;
  if (auto r = authority->issue(gw, now); !r) return from_pki(r.error(), "pki issue gateway");

  step(o.devices == 1 ? std::string("1 wearable, with its own key") : std::to_string(o.devices) + " wearables, each with its own key");
  pki::FleetRequest fleet;
  fleet.prefix = o.device_prefix;
  fleet.count = o.devices;
  fleet.validity = cloud.validity;
  auto issued = authority->issue_fleet(fleet, now);
  if (!issued) return from_pki(issued.error(), "pki fleet");
  s.first_device = issued->front().identity.id;
  s.last_device = issued->back().identity.id;

  step("E3 enrolment: a pseudonymous key ID per wearable, the cloud's E3 key, in e3/");
  auto enrolled = provision::enrol(pki_dir, s.dir / "e3", {}, rng);
  if (!enrolled) return failed("enroll: " + enrolled.error().message);
  // It holds the cloud's E3 private key.
  if (::chmod((s.dir / "e3").c_str(), 0700) != 0) return failed("cannot make " + (s.dir / "e3").string() + " owner-only (0700)");

  auto tcp = free_tcp_port();
  if (!tcp) return failed(tcp.error().message);
  auto udp = free_udp_port();
  if (!udp) return failed(udp.error().message);
  s.cloud_port = *tcp;
  s.gateway_port = *udp;

  step("cloud.toml and gateway.toml on 127.0.0.1 ports free now: TCP " + std::to_string(s.cloud_port) + ", UDP " +
       std::to_string(s.gateway_port));
  s.cloud_config = s.dir / "cloud.toml";
  s.gateway_config = s.dir / "gateway.toml";
  const std::string ct = cloud_toml(s), gt = gateway_toml(s);
  if (auto w = write_file_exclusive(s.cloud_config, as_bytes(ct), 0600); !w) {
    return failed("cannot write " + s.cloud_config.string() + ": " + w.error().message);
  }
  if (auto w = write_file_exclusive(s.gateway_config, as_bytes(gt), 0600); !w) {
    return failed("cannot write " + s.gateway_config.string() + ": " + w.error().message);
  }
  return s;
}

NextCommands next_commands(const Setup& s, const std::string& program) {
  NextCommands c;
  c.cloud = program + " cloud --config cloud.toml";
  c.gateway = program + " gateway --config gateway.toml";
  c.fleet = program + " fleet --devices " + std::to_string(s.devices) +
            " --interval 30s --speedup 60 --duration 10m --gateway-config gateway.toml --pki pki --e3 e3"
            " --state device-state --save-envelope envelope.hex";
  c.command = program + " command send --config cloud.toml --device " + s.first_device +
              " --wait 10 set_interval seconds=60";
  return c;
}

}  // namespace armored::quickstart
