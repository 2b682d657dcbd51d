#pragma once
// The config keys `armored cloud` ([tls]) and `armored gateway` ([cloud])
// share: the TLS files and version policy, and the [status] section. One
// reader keeps the two loaders from drifting apart.

#include <chrono>
#include <filesystem>

#include "common/result.h"
#include "config/toml_reader.h"
#include "tls/config.h"

namespace armored::config {

// Reads ca, certificate, key (required), crl (required if `crl_required`),
// intermediates, min_version ("1.3"/"1.2") and ciphersuites from `s` into
// `out`, file paths resolved against `base`. Unknown keys are left for the
// caller's reject_unknown_keys().
Status read_tls_files(TomlSection& s, const std::filesystem::path& base, bool crl_required, tls::TlsConfig& out);

// Reads `pin_sha256` (optional): a list of SHA-256 digests of the server's
// SubjectPublicKeyInfo DER, 64 hex digits each. The server's verified chain
// must then contain one of them, on top of the CA and name checks.
Status read_spki_pins(TomlSection& s, tls::TlsConfig& out);

// [status] interval_s (0..3600 s, 0: no status line); rejects other keys.
// `interval` keeps its value when the key is absent.
Status read_status_section(TomlDocument& doc, std::chrono::seconds& interval);

}  // namespace armored::config
