#pragma once
// Real peers for the live audit tests: Mosquitto brokers and openssl
// s_server on 127.0.0.1, started without a shell and stopped by the test.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace armored::testing {

// A Mosquitto broker on 127.0.0.1:port. With `user`/`pass` it refuses
// anonymous clients and knows that one account.
inline std::unique_ptr<Subprocess> start_mosquitto(const TempDir& dir, int port, const std::string& user = "",
                                                   const std::string& pass = "") {
  auto conf = dir / ("mosquitto-" + std::to_string(port) + ".conf");
  std::ofstream c(conf);
  c << "listener " << port << " 127.0.0.1\n";
  c << "user root\n";  // tests run as root; keep access to the temp dir
  if (user.empty()) {
    c << "allow_anonymous true\n";
  } else {
    auto pw = dir / ("passwd-" + std::to_string(port));
    auto r = run({"mosquitto_passwd", "-b", "-c", pw.string(), user, pass});
    if (r.exit_code != 0) return nullptr;
    c << "allow_anonymous false\npassword_file " << pw.string() << "\n";
  }
  c.close();
  Subprocess::Options o;
  o.stderr_path = dir / ("mosquitto-" + std::to_string(port) + ".log");
  auto p = std::make_unique<Subprocess>(std::vector<std::string>{"mosquitto", "-c", conf.string()}, o);
  if (!wait_for_tcp_port(port)) return nullptr;
  return p;
}

// openssl s_server -www on 127.0.0.1:port with extra arguments.
inline std::unique_ptr<Subprocess> start_s_server(const TempDir& dir, int port, std::vector<std::string> args) {
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-www"};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess::Options o;
  o.stdout_path = dir / ("s_server-" + std::to_string(port) + ".out");
  o.stderr_path = dir / ("s_server-" + std::to_string(port) + ".err");
  auto p = std::make_unique<Subprocess>(argv, o);
  if (!wait_for_tcp_port(port)) return nullptr;
  return p;
}

}  // namespace armored::testing
