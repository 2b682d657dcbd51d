#pragma once
// Pieces of pipeline_bench that are not the run itself: memory sampling from
// /proc, counting from the cloud's SQLite database, a latency probe (one
// extra device sealing readings in this process and looking each one up in
// the database until it is there), and the Mosquitto reference client.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace armored::bench {

using Steady = std::chrono::steady_clock;

// Runs `armored <argv...>` (the binary `armored` names) in `dir`, its stderr
// in dir/setup.err; false, with that stderr printed under `bench`'s name,
// if it fails or outlives `timeout`.
bool armored_step(const std::string& bench, const std::string& armored, const std::filesystem::path& dir,
                  std::vector<std::string> argv, std::chrono::seconds timeout);
void write_text(const std::filesystem::path& p, const std::string& s);
// Polls `file` until it contains `needle` (false after `timeout`).
bool wait_for(const std::filesystem::path& file, const std::string& needle, std::chrono::seconds timeout);
// The port in "<marker> ...:<port>" of a process's output (0 if absent).
int port_after(const std::string& text, const std::string& marker);

// Samples VmRSS / VmHWM of a set of processes every `period` on its own
// thread; keeps the peak RSS seen in the first and in the second half of the
// sampled span, and the last VmHWM.
class RssSampler {
 public:
  struct Proc {
    std::string name;
    pid_t pid;
  };
  struct Figures {
    std::string name;
    std::uint64_t hwm_kb = 0;          // VmHWM (kernel's peak RSS) at the last sample
    std::uint64_t first_half_kb = 0;   // peak VmRSS over the first half of the samples
    std::uint64_t second_half_kb = 0;  // ... and over the second half
    std::size_t samples = 0;
  };
  RssSampler(std::vector<Proc> procs, std::chrono::milliseconds period);
  ~RssSampler();
  // Stops sampling and returns the figures per process.
  std::vector<Figures> finish();

 private:
  void loop();
  std::vector<Proc> procs_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::vector<std::vector<std::uint64_t>> rss_;  // per process, per sample
  std::vector<std::uint64_t> hwm_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// VmRSS / VmHWM of a process in kB (0 if gone).
std::uint64_t proc_status_kb(pid_t pid, const char* field);

// CPU time (user + system) a process has used so far, in seconds (-1 if gone).
double proc_cpu_seconds(pid_t pid);

// count(*) of readings in the cloud's database; the snapshot is taken when
// the query starts (WAL), which is what `at` reports. -1 on error.
struct Count {
  std::int64_t rows = -1;
  Steady::time_point at;
};
Count count_readings(const std::filesystem::path& db);

// A device of the PKI driven in this process: it seals a reading every
// `period`, sends it to the gateway, and polls the database with a point
// lookup on the primary key until the reading is there. Seal-to-stored
// latencies in milliseconds.
class LatencyProbe {
 public:
  struct Options {
    std::filesystem::path pki_dir, e3_dir, state_dir, db;
    std::string device_id;  // enrolled in the E3 registry, not one of the fleet's
    std::uint16_t gateway_port = 0;
    std::chrono::milliseconds period{50};
  };
  explicit LatencyProbe(Options o);
  ~LatencyProbe();
  void start();
  // Seals no more readings (the outstanding ones are still looked for).
  void stop_sealing() { sealing_ = false; }
  // Stops and returns the latencies of the readings seen stored (ms), and
  // how many were sealed but not (yet) seen.
  std::vector<double> finish(std::size_t* unseen);
  std::string error() const;
  // Readings sealed, and sealed but not yet seen stored.
  std::size_t sealed() const { return sealed_; }
  std::size_t outstanding() const { return outstanding_; }

 private:
  void loop();
  Options o_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sealing_{true};
  std::atomic<std::size_t> sealed_{0}, outstanding_{0};
  std::thread thread_;
  std::vector<double> latencies_;
  std::size_t unseen_ = 0;
  std::string error_;
};

// Mosquitto reference: QoS 1 PUBLISHes of 96-byte payloads over TLS 1.3
// with client certificates, our ClientSession with a deep window, for
// `seconds`. Returns messages acknowledged per second (<= 0 on failure).
double mosquitto_reference_rate(const std::filesystem::path& pki_dir, const std::filesystem::path& work_dir,
                                double seconds, std::size_t window, std::string* detail);

}  // namespace armored::bench
