#include "tls/openssl_peers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace armored::testing {

OpensslServer::OpensslServer(const Fleet& f, std::vector<std::string> extra, Files files) {
  port_ = free_tcp_port();
  auto fifo = f.dir / ("s_server_" + std::to_string(port_) + ".in");
  EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fifo_fd_ = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", std::to_string(port_),
                                   "-cert", (files.cert.empty() ? f.server_chain : files.cert).string(),
                                   "-key", (files.key.empty() ? f.server_key : files.key).string(),
                                   "-cert_chain", f.issuing_file.string(), "-CAfile", f.ca_file.string(),
                                   "-Verify", "1", "-verify_return_error", "-num_tickets", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  out_ = f.dir / ("s_server_" + std::to_string(port_) + ".out");
  Subprocess::Options o;
  o.stdout_path = out_;
  o.stderr_path = out_;
  o.stdin_path = fifo;
  proc_ = std::make_unique<Subprocess>(argv, o);
  EXPECT_TRUE(wait_for_tcp_port(port_)) << slurp(out_);
}

OpensslServer::~OpensslServer() {
  proc_.reset();
  if (fifo_fd_ >= 0) ::close(fifo_fd_);
}

RunResult run_s_client(const Fleet& f, std::uint16_t port, std::vector<std::string> extra,
                       const std::string& input,
                       std::pair<std::filesystem::path, std::filesystem::path> client_cert) {
  std::vector<std::string> argv = {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                   "-servername", "localhost", "-verify_hostname", "localhost",
                                   "-CAfile", f.ca_file.string(), "-verify_return_error", "-ign_eof"};
  if (!client_cert.first.empty()) {
    argv.insert(argv.end(), {"-cert", client_cert.first.string(), "-key", client_cert.second.string(),
                             "-cert_chain", f.issuing_file.string()});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run(argv, std::chrono::seconds(20), input);
}

}  // namespace armored::testing
