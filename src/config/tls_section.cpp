#include "config/tls_section.h"

#include <algorithm>

#include "common/hex.h"

namespace armored::config {

Status read_tls_files(TomlSection& s, const std::filesystem::path& base, bool crl_required, tls::TlsConfig& out) {
  std::string ca, cert, key, crl, chain, minv = "1.3", suites;
  ARMORED_TRY(s.get("ca", ca));
  ARMORED_TRY(s.get("certificate", cert));
  ARMORED_TRY(s.get("key", key));
  ARMORED_TRY(crl_required ? s.get("crl", crl) : s.get_optional("crl", crl));
  ARMORED_TRY(s.get_optional("intermediates", chain));
  ARMORED_TRY(s.get_optional_choice("min_version", minv, {"1.3", "1.2"}));
  ARMORED_TRY(s.get_optional("ciphersuites", suites));
  out.ca_file = resolve_path(base, ca);
  out.cert_chain = resolve_path(base, cert);
  out.key_file = resolve_path(base, key);
  out.crl_file = resolve_path(base, crl);
  out.intermediates = resolve_path(base, chain);
  out.min_version = minv == "1.2" ? tls::MinVersion::kTls12 : tls::MinVersion::kTls13;
  out.tls13_ciphersuites = suites;
  return {};
}

Status read_spki_pins(TomlSection& s, tls::TlsConfig& out) {
  std::vector<std::string> pins;
  ARMORED_TRY(s.get_optional("pin_sha256", pins));
  for (const auto& text : pins) {
    auto raw = from_hex(text);
    if (!raw || raw->size() != 32) {
      return fail("pin_sha256: '" + text + "' is not 64 hex digits (SHA-256 of an SPKI)");
    }
    tls::SpkiPin pin{};
    std::copy(raw->begin(), raw->end(), pin.begin());
    out.spki_pins.push_back(pin);
  }
  return {};
}

Status read_status_section(TomlDocument& doc, std::chrono::seconds& interval) {
  auto status = doc.section("status");
  std::int64_t s = interval.count();
  ARMORED_TRY(status.get_optional("interval_s", s, 0, 3600));
  ARMORED_TRY(status.reject_unknown_keys());
  interval = std::chrono::seconds(s);
  return {};
}

}  // namespace armored::config
