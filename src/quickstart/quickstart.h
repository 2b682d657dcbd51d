#pragma once
// `armored quickstart DIR`: a working directory a newcomer can run the whole
// pipeline from: a fleet PKI (cloud, one gateway, N wearables), E3
// enrolment, and cloud.toml / gateway.toml on ports that were free on
// 127.0.0.1 when they were written. The same steps scripts/demo.sh takes,
// without a shell, so that the commands it prints work as printed.
//
// Layout of DIR (0700: it holds keys):
//   pki/           fleet CA, cloud/cloud.*, gateway/<gateway>.*, device/<prefix>-0001.. (keys 0600)
//   e3/            E3 enrolment: registry.json, the cloud's E3 key (0600)
//   cloud.toml     listens on 127.0.0.1:<cloud port>; SQLite armored.db, admin socket cloud.sock
//   gateway.toml   UDP 127.0.0.1:<gateway port>, forwards to localhost:<cloud port>
// The cloud, gateway and fleet then create armored.db, cloud.sock,
// gateway-spool/, gateway-tickets/ and device-state/ there.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/rng.h"

namespace armored::quickstart {

enum class ErrorCode : std::uint8_t {
  kBadInput,  // a bad option or a DIR that cannot be used: exit 2
  kNotEmpty,  // DIR holds something and --force was not given: exit 2
  kFailed,    // a step failed (PKI, enrolment, writing, no free port): exit 1
};

struct Error {
  ErrorCode code = ErrorCode::kFailed;
  std::string message;  // one line, names the file or step
};

template <typename T>
using QuickstartResult = Result<T, Error>;

struct Options {
  std::filesystem::path dir;
  std::size_t devices = 10;              // wearables issued and enrolled (1..10000)
  std::string device_prefix = "wearable";  // ids <prefix>-0001..
  std::string gateway_id = "gw1";
  // Use a non-empty DIR: first remove what a quickstart makes there
  // (kMadeHere), and nothing else.
  bool force = false;
};

// Every name a quickstart, or the programs run from it, create in DIR:
// what --force removes.
extern const std::vector<std::string_view> kMadeHere;

struct Setup {
  std::filesystem::path dir;  // absolute
  std::filesystem::path cloud_config, gateway_config;
  std::uint16_t cloud_port = 0;    // TCP, 127.0.0.1
  std::uint16_t gateway_port = 0;  // UDP, 127.0.0.1
  std::string gateway_id;
  std::size_t devices = 0;
  std::string first_device, last_device;
  std::vector<std::string> removed;  // with --force: the names removed first
};

// One line per step, for the caller to show as progress.
using Progress = std::function<void(std::string_view step)>;

// Creates the setup; on failure DIR may hold the steps done so far (run
// again with --force). Checks every option before writing anything.
QuickstartResult<Setup> create(const Options& options, Clock::TimePoint now, Rng& rng, const Progress& progress = {});

// The commands that run the setup, in order: start the cloud, the gateway,
// the fleet (each in its own terminal, from DIR), then send a command.
// `program` is how to call armored ("armored" when it is on PATH).
struct NextCommands {
  std::string cloud, gateway, fleet, command;
};
NextCommands next_commands(const Setup& setup, const std::string& program);

// A port on 127.0.0.1 that nothing was bound to a moment ago (bind to port
// 0, read it back, close). Another program may take it before ours binds.
Expected<std::uint16_t> free_tcp_port();
Expected<std::uint16_t> free_udp_port();

}  // namespace armored::quickstart
