#pragma once
// `openssl s_server` and `openssl s_client` as real peers for interop tests.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"
#include "tls/test_fleet.h"

namespace armored::testing {

// s_server on a free port. Its stdin is a FIFO held open by the test:
// s_server stops accepting when stdin reaches EOF.
class OpensslServer {
 public:
  struct Files {
    std::filesystem::path cert, key;  // empty: the fleet's server cert
  };
  OpensslServer(const Fleet& f, std::vector<std::string> extra, Files files = {});
  ~OpensslServer();
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
  std::string output() const { return slurp(out_); }

 private:
  int port_ = 0;
  int fifo_fd_ = -1;
  std::filesystem::path out_;
  std::unique_ptr<Subprocess> proc_;
};

// s_client against 127.0.0.1:port with the fleet's CA; returns its output.
// `client_cert`: {chain, key} or empty for no client certificate.
RunResult run_s_client(const Fleet& f, std::uint16_t port, std::vector<std::string> extra,
                       const std::string& input,
                       std::pair<std::filesystem::path, std::filesystem::path> client_cert);

}  // namespace armored::testing
