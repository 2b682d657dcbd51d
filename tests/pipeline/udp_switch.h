#pragma once
// A device's radio moving between gateways: a UDP hop in front of the fleet
// that sends everything to one gateway and, when told, to another; answers
// from either go back to the fleet. Lets a test leave readings in one
// gateway's spool while the devices carry on through another.

#include <netinet/in.h>

#include <atomic>
#include <thread>

namespace armored::pipeline_test {

class UdpSwitch {
 public:
  explicit UdpSwitch(int gateway_port);
  ~UdpSwitch();
  UdpSwitch(const UdpSwitch&) = delete;
  UdpSwitch& operator=(const UdpSwitch&) = delete;

  int port() const { return port_; }  // the fleet sends here
  void switch_to(int gateway_port) { target_port_ = gateway_port; }

 private:
  void loop();
  int front_ = -1;  // fleet side
  int back_ = -1;   // gateway side
  int port_ = 0;
  std::atomic<int> target_port_;
  std::atomic<bool> stop_{false};
  sockaddr_in fleet_{};
  bool have_fleet_ = false;
  std::thread thread_;
};

}  // namespace armored::pipeline_test
