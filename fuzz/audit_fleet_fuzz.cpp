// Fuzzes what `audit fleet` parses from a PKI directory and the audit
// trail: the first byte picks the parser (certificate PEM, CRL PEM, the
// pki.json index, a connection event's detail), the rest is its input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/fleet_cert.h"
#include "audit/fleet_checks.h"
#include "ossl/ossl.h"
#include "pki/index.h"

namespace {
// A serial's one spelling (ossl::normal_serial) is whole bytes and a fixed
// point: spelled again, it does not change.
void check_serial(std::string_view text) {
  const std::string once = armored::ossl::normal_serial(text);
  if (once.size() % 2 != 0 || armored::ossl::normal_serial(once) != once) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored;
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto c = audit::read_certificate(input);
      if (c) check_serial(c->serial);
      break;
    }
    case 1: {
      auto crl = audit::read_crl(input);
      if (crl) {
        for (const auto& [serial, when] : crl->revoked) check_serial(serial);
      }
      break;
    }
    case 2:
      (void)pki::Index::from_json(input);
      break;
    default:
      (void)audit::event_field(input, "serial");
      (void)audit::event_field(input, "from");
      check_serial(audit::event_field(input, "serial"));
      break;
  }
  return 0;
}
