// A device or cloud process for the crash tests: it runs until SIGKILLed and
// leaves only what it persisted (state files) and what it emitted (a log of
// one line per message, each written with a single write()).
//
//   e3_crash_helper seal DIR         device: seal readings forever into DIR/wire.log
//   e3_crash_helper open DIR INPUT   cloud: open INPUT's lines, log results to DIR/opened.log

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/file_io.h"
#include "common/hex.h"
#include "common/rng.h"
#include "e3/e3.h"

using namespace armored;
using namespace armored::e3;

namespace {

const Bytes kKid = {0x0d, 0xe1, 0xce};
const Bytes kCloudKeyId = {'c', '1'};

void append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) std::exit(3);
  const std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::exit(3);
  ::close(fd);
}

std::string text(const std::string& path) { return read_text_file(path).value(); }

int run_device(const std::string& dir) {
  SystemClock clock;
  SystemRng rng;
  FileStateStore store(dir + "/device.state");
  SealerConfig cfg;
  cfg.kid = kKid;
  cfg.cloud_key_id = kCloudKeyId;
  cfg.alg = crypto::AeadAlg::kChaCha20Poly1305;
  cfg.reserve_ahead = 8;
  cfg.rotation_messages = 250;
  auto sealer = Sealer::create(cfg, crypto::EcPrivateKey::from_pem(text(dir + "/identity.pem")).value(),
                               crypto::EcPublicKey::from_pem(text(dir + "/cloud_pub.pem")).value(), clock, rng, store);
  if (!sealer) return 2;
  if (auto saved = store.load()) {
    if (!sealer->restore(*saved)) return 2;
    // A device re-sends its current announcement after a reboot.
    if (sealer->has_epoch()) append_line(dir + "/wire.log", "A " + to_hex(sealer->announcement()));
  }
  Bytes env(256);
  for (std::uint32_t i = 0; i < 200000; ++i) {
    if (sealer->rotation_due()) {
      auto ann = sealer->start_epoch();
      if (!ann) return 4;
      append_line(dir + "/wire.log", "A " + to_hex(*ann));
    }
    Bytes reading(52, static_cast<std::uint8_t>(i));
    auto n = sealer->seal(reading, env);
    if (!n) return 5;
    append_line(dir + "/wire.log", "D " + to_hex(ByteSpan(env).first(*n)));
  }
  return 0;
}

int run_cloud(const std::string& dir, const std::string& input) {
  SystemClock clock;
  FileStateStore state(dir + "/opener.state");
  OpenerConfig cfg;
  cfg.cloud_key_id = kCloudKeyId;
  auto opener = Opener::create(cfg, crypto::EcPrivateKey::from_pem(text(dir + "/cloud.pem")).value(), clock, &state);
  if (!opener) return 2;
  if (!opener->add_device({kKid, "device-1", crypto::EcPublicKey::from_pem(text(dir + "/identity_pub.pem")).value()})) {
    return 2;
  }
  if (auto saved = state.load()) {
    if (!opener->restore(*saved)) return 2;
  }
  // opened.log is this cloud's store: an "OK epoch seq" line is a stored
  // reading. As in the real cloud (section 7.4), the store decides by
  // identity, and the window is marked and persisted only after the store.
  std::set<std::pair<std::uint32_t, std::uint64_t>> stored;
  {
    std::ifstream log(dir + "/opened.log");
    std::string l;
    unsigned e = 0;
    unsigned long long q = 0;
    while (std::getline(log, l)) {
      if (std::sscanf(l.c_str(), "OK %u %llu", &e, &q) == 2) stored.insert({e, q});
    }
  }
  std::ifstream in(input);
  std::string line;
  Bytes out(256);
  while (std::getline(in, line)) {
    auto msg = from_hex(line.substr(2));
    if (!msg) return 6;
    std::string result;
    if (line[0] == 'A') {
      auto r = opener->accept_announcement(*msg);
      result = r ? "ANN " + std::to_string(r->epoch) : std::string("ERR ") + to_string(r.error().code);
      if (!state.save(opener->serialize())) return 7;
      append_line(dir + "/opened.log", result);
      continue;
    }
    auto r = opener->open(*msg, out);
    if (!r) {
      append_line(dir + "/opened.log", std::string("ERR ") + to_string(r.error().code));
      continue;
    }
    // Store first, then mark: a crash between the two leaves the number
    // unmarked, and its copy is found stored, never accepted twice or lost.
    if (stored.insert({r->epoch, r->sequence}).second) {
      append_line(dir + "/opened.log", "OK " + std::to_string(r->epoch) + " " + std::to_string(r->sequence));
    } else {
      append_line(dir + "/opened.log", "ERR duplicate");
    }
    opener->mark_received(parse_header(*msg)->kid, r->epoch, r->sequence);
    if (!state.save(opener->serialize())) return 7;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "seal") return run_device(argv[2]);
  if (argc >= 4 && std::string(argv[1]) == "open") return run_cloud(argv[2], argv[3]);
  std::fprintf(stderr, "usage: e3_crash_helper seal DIR | open DIR INPUT\n");
  return 2;
}
