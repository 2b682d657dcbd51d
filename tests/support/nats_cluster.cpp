#include "support/nats_cluster.h"

#include <csignal>
#include <fstream>

namespace armored::testing {

NatsCluster::NatsCluster(const TempDir& dir, int nodes) : dir_(dir), nodes_(static_cast<std::size_t>(nodes)) {
  if (!have_program("nats-server")) {
    error_ = "nats-server is not installed (scripts/install-deps.sh installs it)";
    return;
  }
  for (auto& n : nodes_) {
    n.client_port = free_tcp_port();
    n.route_port = free_tcp_port();
  }
  for (int i = 0; i < size(); ++i) write_config(i);
  for (int i = 0; i < size(); ++i) {
    if (!start(i)) {
      error_ = "nats-server " + std::to_string(i) + " did not start: " + slurp(nodes_[static_cast<std::size_t>(i)].log);
      return;
    }
  }
}

NatsCluster::~NatsCluster() {
  for (auto& n : nodes_) {
    if (n.process) {
      n.process->signal(SIGCONT);
      n.process->stop(std::chrono::milliseconds(2000));
    }
  }
}

void NatsCluster::write_config(int node) {
  Node& n = nodes_[static_cast<std::size_t>(node)];
  const std::string name = "n" + std::to_string(node);
  n.config = dir_ / ("nats-" + name + ".conf");
  n.log = dir_ / ("nats-" + name + ".log");
  std::ofstream c(n.config);
  c << "server_name: " << name << "\n";
  c << "listen: 127.0.0.1:" << n.client_port << "\n";
  // Small limits: tests never need more, and the machine is shared.
  c << "jetstream {\n  store_dir: \"" << (dir_ / ("nats-store-" + name)).string()
    << "\"\n  max_memory_store: 64MB\n  max_file_store: 2GB\n}\n";
  if (size() > 1) {
    c << "cluster {\n  name: armored-test\n  listen: 127.0.0.1:" << n.route_port << "\n  routes: [\n";
    for (const auto& other : nodes_) c << "    nats-route://127.0.0.1:" << other.route_port << "\n";
    c << "  ]\n}\n";
  }
}

bool NatsCluster::start(int node) {
  Node& n = nodes_[static_cast<std::size_t>(node)];
  if (n.process) {
    n.process->signal(SIGCONT);
    n.process->stop(std::chrono::milliseconds(2000));
  }
  Subprocess::Options o;
  o.stderr_path = n.log;
  o.stdout_path = dir_ / ("nats-n" + std::to_string(node) + ".out");
  n.process = std::make_unique<Subprocess>(std::vector<std::string>{"nats-server", "-c", n.config.string()}, o);
  return wait_for_tcp_port(n.client_port, std::chrono::seconds(15));
}

std::vector<std::string> NatsCluster::urls() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(url(i));
  return out;
}

std::string NatsCluster::url(int node) const {
  return "nats://127.0.0.1:" + std::to_string(nodes_[static_cast<std::size_t>(node)].client_port);
}

void NatsCluster::kill(int node) {
  auto& p = nodes_[static_cast<std::size_t>(node)].process;
  if (!p) return;
  p->signal(SIGKILL);
  p->wait(std::chrono::seconds(5));
}

void NatsCluster::freeze(int node) {
  if (auto& p = nodes_[static_cast<std::size_t>(node)].process) p->signal(SIGSTOP);
}

void NatsCluster::thaw(int node) {
  if (auto& p = nodes_[static_cast<std::size_t>(node)].process) p->signal(SIGCONT);
}

bool NatsCluster::running(int node) {
  auto& p = nodes_[static_cast<std::size_t>(node)].process;
  return p && p->running();
}

pid_t NatsCluster::pid(int node) const {
  const auto& p = nodes_[static_cast<std::size_t>(node)].process;
  return p ? p->pid() : -1;
}

}  // namespace armored::testing
