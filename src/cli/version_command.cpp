// `armored version`: build facts a bug report needs.

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"

namespace armored::cli {

void add_version(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("version", "Print the version of armored and of OpenSSL");
  cmd->callback([&ctx] {
    std::string ossl = OpenSSL_version(OPENSSL_VERSION);
    if (ctx.json) {
      std::cout << nlohmann::json{{"armored", "0.1.0"}, {"openssl", ossl}}.dump() << "\n";
    } else {
      std::cout << "armored 0.1.0\n" << ossl << "\n";
    }
  });
}

}  // namespace armored::cli
