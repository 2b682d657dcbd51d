#pragma once
// A real `armored cloud` for the audit tests: a PKI made with `armored pki`,
// enrolment, the cloud on 127.0.0.1 (port 0, read back from its output) and
// openssl s_client connecting with an identity's certificate.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "support/process.h"

namespace armored::testing {

class CloudPeer {
 public:
  explicit CloudPeer(const TempDir& dir) : dir_(dir) {}

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string pki() const { return (dir() / "pki").string(); }
  int port() const { return port_; }

  // `armored ARGS...` must succeed; returns stdout.
  std::string armored(std::vector<std::string> args) {
    args.insert(args.begin(), armored_binary().string());
    auto r = run(args, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << args[1] << " " << (args.size() > 2 ? args[2] : "") << ": " << r.err;
    return r.out;
  }

  // pki init, the cloud's identity (localhost, 127.0.0.1), the given gateways and devices, enrolment.
  void make_pki(const std::vector<std::string>& gateways, const std::vector<std::string>& devices) {
    armored({"pki", "init", "--dir", pki(), "--name", "Audit Test CA"});
    armored({"pki", "issue", "cloud", "--id", "cloud", "--dns", "localhost", "--ip", "127.0.0.1", "--dir", pki()});
    for (const auto& g : gateways) armored({"pki", "issue", "gateway", "--id", g, "--dir", pki()});
    for (const auto& d : devices) armored({"pki", "issue", "device", "--id", d, "--dir", pki()});
    armored({"enroll", "--pki", pki(), "--e3", (dir() / "e3").string()});
  }

  // Starts `armored cloud` with its store in cloud.db (or the given
  // [storage] lines); false if it did not come up.
  bool start(const std::string& storage = "sqlite_path = \"cloud.db\"\n") {
    std::ofstream(dir() / "cloud.toml")
        << "[listen]\naddress = \"127.0.0.1\"\nport = 0\n"
        << "[tls]\nca = \"pki/root-ca.crt\"\ncertificate = \"pki/cloud/cloud.crt\"\n"
        << "intermediates = \"pki/issuing-ca.crt\"\nkey = \"pki/cloud/cloud.key\"\ncrl = \"pki/crl.pem\"\n"
        // Reload on SIGHUP only: the fleet audit needs a cloud that still
        // holds the CRL it started with after `armored pki revoke`.
        << "crl_check_interval_s = 0\n"
        << "[e3]\ndir = \"e3\"\npki_dir = \"pki\"\nstate_file = \"cloud.e3state\"\n"
        << "[storage]\n" << storage << "[status]\ninterval_s = 1\n";
    Subprocess::Options o;
    o.cwd = dir();
    o.stdout_path = dir() / "cloud.out";
    o.stderr_path = dir() / "cloud.err";
    cloud_ = std::make_unique<Subprocess>(
        std::vector<std::string>{armored_binary().string(), "cloud", "--config", "cloud.toml"}, o);
    static const std::regex port_re("listening on 127\\.0\\.0\\.1:(\\d+)");
    for (int i = 0; i < 200; ++i) {
      std::smatch m;
      std::string out = slurp(o.stdout_path);
      if (std::regex_search(out, m, port_re)) {
        port_ = std::stoi(m[1]);
        return true;
      }
      if (!cloud_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "cloud did not start: " << slurp(o.stdout_path) << slurp(o.stderr_path);
    return false;
  }

  // Stops the cloud (SIGTERM: it drains its store); returns its exit status.
  int stop() { return cloud_ ? cloud_->stop(std::chrono::seconds(10)) : -1; }

  // A mutual-TLS 1.3 handshake with openssl s_client as <role>/<id>; true if
  // the handshake completed (the cloud may still close right after).
  bool connect_as(const std::string& role, const std::string& id) {
    auto r = run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port_), "-servername",
                  "localhost", "-tls1_3", "-CAfile", pki() + "/root-ca.crt", "-cert",
                  pki() + "/" + role + "/" + id + ".crt", "-key", pki() + "/" + role + "/" + id + ".key",
                  "-cert_chain", pki() + "/issuing-ca.crt", "-verify_return_error", "-brief"},
                 std::chrono::seconds(20), "");
    return r.exit_code == 0 && r.err.find("CONNECTION ESTABLISHED") != std::string::npos;
  }

  // Connection events the cloud recorded for `id`, waiting up to 5 s for
  // at least `want` of them (the store writer commits asynchronously).
  std::vector<store::SecurityEvent> connections_of(const std::string& id, std::size_t want) {
    std::vector<store::SecurityEvent> out;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      auto s = store::open_sqlite(dir() / "cloud.db");
      if (s) {
        auto events = (*s)->recent_events(100000);
        if (events) {
          for (const auto& e : *events) {
            if (e.kind == store::EventKind::kConnected && e.peer == id) out.push_back(e);
          }
        }
      }
      if (out.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return out;
  }

 private:
  const TempDir& dir_;
  std::unique_ptr<Subprocess> cloud_;
  int port_ = 0;
};

}  // namespace armored::testing
