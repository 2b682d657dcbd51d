#pragma once
// A real NATS JetStream cluster for tests: `nodes` nats-server processes on
// 127.0.0.1 (client and route ports picked free), each with its own store
// directory in the test's temp dir. One node runs without clustering.
// Nodes can be killed (SIGKILL), frozen (SIGSTOP) and started again on the
// same ports and store, as a crashed machine would come back.

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace armored::testing {

class NatsCluster {
 public:
  NatsCluster(const TempDir& dir, int nodes);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Empty when every node accepts connections; otherwise why not.
  const std::string& error() const { return error_; }
  int size() const { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:PORT" of every node.
  std::vector<std::string> urls() const;
  std::string url(int node) const;

  void kill(int node);      // SIGKILL, store left as it was
  void freeze(int node);    // SIGSTOP
  void thaw(int node);      // SIGCONT
  bool start(int node);     // (again) on the same ports and store; true once it accepts connections
  bool running(int node);
  // The node's nats-server process id (-1 when not running), for CPU accounting.
  pid_t pid(int node) const;

 private:
  struct Node {
    int client_port = 0;
    int route_port = 0;
    std::filesystem::path config;
    std::filesystem::path log;
    std::unique_ptr<Subprocess> process;
  };
  void write_config(int node);

  const TempDir& dir_;
  std::vector<Node> nodes_;
  std::string error_;
};

}  // namespace armored::testing
