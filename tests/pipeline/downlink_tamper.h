#pragma once
// A hostile gateway's radio side for the command tests: a UDP hop between
// `armored fleet` and the real gateway that forwards everything, and does to
// downlink datagrams (sealed commands) what the test asks: pass them, send
// them twice (replay), flip one byte (forgery), or hold them back to deliver
// later (an old command delivered late). Devices are told apart by kid.

#include <atomic>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"

namespace armored::pipeline_test {

class DownlinkTamper {
 public:
  enum class Mode { kPass, kReplay, kFlipByte, kHold };

  explicit DownlinkTamper(int gateway_port);
  ~DownlinkTamper();
  DownlinkTamper(const DownlinkTamper&) = delete;
  DownlinkTamper& operator=(const DownlinkTamper&) = delete;

  int port() const { return port_; }  // the fleet sends here
  void set_mode(Mode m) { mode_ = m; }
  // Sends every held downlink datagram to its device now; returns how many.
  std::size_t release_held();
  std::size_t downlinks() const { return downlinks_; }  // seen from the gateway

 private:
  void loop();
  int front_ = -1;  // fleet side
  int back_ = -1;   // gateway side
  int port_ = 0;
  sockaddr_in gateway_{};
  std::atomic<Mode> mode_{Mode::kPass};
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> downlinks_{0};
  std::mutex mu_;
  std::map<Bytes, sockaddr_in> devices_;  // kid -> fleet address
  std::map<Bytes, sockaddr_in> headers_;  // E3 header of an uplink -> its sender (for the answer)
  std::vector<std::pair<Bytes, sockaddr_in>> held_;
  std::thread thread_;
};

}  // namespace armored::pipeline_test
