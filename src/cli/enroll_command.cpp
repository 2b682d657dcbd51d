// `armored enroll`: gives each device of a PKI a pseudonymous E3 key ID and
// creates the cloud's E3 key pair.

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "common/rng.h"
#include "provision/enroll.h"

namespace armored::cli {

void add_enroll(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string pki, e3;
    std::size_t kid_bytes = 3;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("enroll", "Give each device of a PKI a pseudonymous E3 key ID; create the cloud's E3 key");
  cmd->footer("Give every device of a PKI a random pseudonymous E3 key ID (the only identity a gateway\never sees) and create the cloud's E3 key pair on first use. Idempotent: enrolled devices\nkeep their key ID. Writes DIR/registry.json, DIR/cloud-e3.key (0600) and DIR/cloud-e3.pub.");
  cmd->add_option("--pki", o->pki, "PKI directory (from `armored pki init`)")->required();
  cmd->add_option("--e3", o->e3, "E3 directory to create or update")->required();
  cmd->add_option("--kid-bytes", o->kid_bytes, "Key ID length in bytes")->check(CLI::Range(1, 8))->capture_default_str();
  cmd->callback([o, &ctx] {
    SystemRng rng;
    provision::EnrolOptions eo;
    eo.kid_bytes = o->kid_bytes;
    auto r = provision::enrol(o->pki, o->e3, eo, rng);
    if (!r) throw Failure(r.error());
    if (ctx.json) {
      std::cout << nlohmann::json{{"enrolled", r->enrolled}, {"already", r->already},
                                  {"created_cloud_key", r->created_cloud_key},
                                  {"devices", r->registry.devices.size()}}
                       .dump()
                << "\n";
    } else {
      std::cout << "Enrolled " << r->enrolled << " new devices (" << r->already << " already enrolled); "
                << (r->created_cloud_key ? "created" : "kept") << " the cloud E3 key in " << o->e3 << "\n";
    }
  });
}

}  // namespace armored::cli
