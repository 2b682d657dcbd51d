#pragma once
// A stand-in gateway for the security and interop tests: a UDP socket on
// 127.0.0.1 that answers every E3 message with 0xC1 || header ("spooled"),
// as the real gateway does, and keeps one copy of each distinct datagram.
// It gives the tests genuine envelopes sealed by `armored fleet`.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"

namespace armored::pipeline_test {

struct Captured {
  Bytes announcement;        // the device's epoch announcement
  std::vector<Bytes> uplinks;  // its readings, in sequence order
};

class EnvelopeCapture {
 public:
  EnvelopeCapture();  // binds; port() tells where
  ~EnvelopeCapture();
  EnvelopeCapture(const EnvelopeCapture&) = delete;
  EnvelopeCapture& operator=(const EnvelopeCapture&) = delete;

  int port() const { return port_; }
  // Messages grouped by key ID (hex), announcement first.
  std::map<std::string, Captured> by_device();

 private:
  void loop();
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Bytes> seen_;
  std::thread thread_;
};

// Writes bytes to a file (for mosquitto_pub -f).
void write_bytes(const std::string& path, ByteSpan bytes);

}  // namespace armored::pipeline_test
