#include "tls/test_fleet.h"

namespace armored::testing {

LeafSpec server_spec() {
  LeafSpec s;
  s.common_name = "cloud.armored.test";
  s.dns = {"localhost", "cloud.armored.test"};
  s.ips = {"127.0.0.1"};
  s.eku = Eku::kServer;
  return s;
}

LeafSpec gateway_spec(const std::string& id) {
  LeafSpec s;
  s.common_name = "gateway " + id;
  s.uris = {"urn:armored:gateway:" + id};
  s.eku = Eku::kClient;
  return s;
}

Fleet::Fleet() {
  root = TestAuthority::root("Armored Test Root");
  issuing = root->intermediate("Armored Test Issuing CA");
  ca_file = dir / "ca.pem";
  crl_file = dir / "crl.pem";
  write_text(ca_file, root->cert_pem());
  issuing_file = dir / "issuing.pem";
  write_text(issuing_file, issuing->cert_pem());
  server = issuing->issue(server_spec());
  gateway = issuing->issue(gateway_spec());
  server_chain = server.write(dir.path(), "server");
  server_key = dir / "server.key";
  gateway_chain = gateway.write(dir.path(), "gateway");
  gateway_key = dir / "gateway.key";
  rewrite_crl();
}

void Fleet::rewrite_crl() { write_text(crl_file, root->crl_pem() + issuing->crl_pem()); }

std::filesystem::path Fleet::add_leaf(const std::string& name, const LeafSpec& spec) {
  return issuing->issue(spec).write(dir.path(), name);
}

tls::TlsConfig Fleet::server_config() const {
  tls::TlsConfig c;
  c.role = tls::Role::kServer;
  c.ca_file = ca_file;
  c.crl_file = crl_file;
  c.cert_chain = server_chain;
  c.key_file = server_key;
  return c;
}

tls::TlsConfig Fleet::client_config() const {
  tls::TlsConfig c;
  c.role = tls::Role::kClient;
  c.ca_file = ca_file;
  c.crl_file = crl_file;
  c.cert_chain = gateway_chain;
  c.key_file = gateway_key;
  return c;
}

Exchange pump(tls::Connection& client, tls::Connection& server, Clock::TimePoint now, bool start) {
  Exchange ex;
  auto append = [](std::vector<tls::Event>& to, std::vector<tls::Event> from) {
    for (auto& e : from) to.push_back(std::move(e));
  };
  if (start) append(ex.client_events, client.start(now));
  for (int round = 0; round < 64; ++round) {
    Bytes c2s = client.take_output();
    if (!c2s.empty()) {
      ex.client_to_server_bytes += c2s.size();
      ++ex.flights;
      append(ex.server_events, server.feed(c2s, now));
    }
    Bytes s2c = server.take_output();
    if (!s2c.empty()) {
      ex.server_to_client_bytes += s2c.size();
      ++ex.flights;
      append(ex.client_events, client.feed(s2c, now));
    }
    if (c2s.empty() && s2c.empty()) break;
  }
  return ex;
}

std::string app_bytes(const std::vector<tls::Event>& events, bool early_only) {
  std::string s;
  for (auto& e : events) {
    if (auto* a = std::get_if<tls::ApplicationData>(&e)) {
      if (!early_only || a->arrived_as_early_data) s += as_string(a->bytes);
    }
  }
  return s;
}

}  // namespace armored::testing
