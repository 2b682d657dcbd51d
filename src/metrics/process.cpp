// process_* metrics from /proc/self, with the names and units of the
// official Prometheus clients (client_golang's process collector), so the
// dashboards and alerts people already have work unchanged.
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "metrics/metrics.h"

namespace armored::metrics {

namespace {

struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, start_ticks = 0;
  double rss_pages = 0;
  bool ok = false;
};

ProcStat read_proc_stat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  // The command name (field 2) is in parentheses and may hold spaces: the
  // fields that follow start after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // Fields from 3 (state) on; utime is 14, stime 15, starttime 22, rss 24.
  for (int i = 3; i <= 24 && rest >> field; ++i) {
    if (i == 14) s.utime_ticks = std::stod(field);
    if (i == 15) s.stime_ticks = std::stod(field);
    if (i == 22) s.start_ticks = std::stod(field);
    if (i == 24) {
      s.rss_pages = std::stod(field);
      s.ok = true;
    }
  }
  return s;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

ProcessSample read_process() {
  ProcessSample p;
  const ProcStat st = read_proc_stat();
  if (st.ok) {
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    p.cpu_seconds = (st.utime_ticks + st.stime_ticks) / ticks;
    p.resident_bytes = st.rss_pages * page;
    p.start_time_seconds = boot_time_seconds() + st.start_ticks / ticks;
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) p.open_fds = static_cast<double>(fds);
  return p;
}

void add_process_families(Families& out) {
  const ProcessSample p = read_process();
  if (p.resident_bytes > 0) {
    add_counter(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", p.cpu_seconds);
    add_gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", p.resident_bytes);
    add_gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
              p.start_time_seconds);
  }
  if (p.open_fds > 0) add_gauge(out, "process_open_fds", "Number of open file descriptors.", p.open_fds);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    add_gauge(out, "process_max_fds", "Maximum number of open file descriptors.", static_cast<double>(rl.rlim_cur));
  }
}

}  // namespace armored::metrics
