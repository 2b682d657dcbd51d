#pragma once
// Measured crypto costs of the device end of E3: instructions per sealed
// reading, per epoch start (the announcement), per re-signed announcement
// and per opened command, as device-sdk/scripts/figures.sh counts them on
// the emulated Cortex-M4. The file format is docs/energy.md section
// "Crypto cost files" (JSON, "format": "armored-crypto-costs", version 1).
//
// Turning instructions into energy takes a clock and a current: one
// instruction per cycle at `clock_mhz`, the profile's cpu_current_ma at its
// supply_voltage_v. The figures sit next to the profile's datasheet-based
// ones (AEAD uJ per byte, ECDH/ECDSA/HKDF milliseconds).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "energy/model.h"

namespace armored::energy {

inline constexpr std::string_view kCryptoCostsFormat = "armored-crypto-costs";
inline constexpr std::int64_t kCryptoCostsVersion = 1;
inline constexpr std::size_t kMaxCryptoCostsBytes = 64 * 1024;

struct CryptoCosts {
  std::string source;         // the built-in name or the file's path
  std::string target;         // "cortex-m4"
  std::string measured_with;  // emulator, compiler, crypto library
  unsigned reading_bytes = 0;            // plaintext of the sealed reading measured
  unsigned command_plaintext_bytes = 0;  // plaintext of the command measured (AES-128-GCM)
  std::array<std::uint64_t, 4> seal_instructions{};  // indexed by Aead
  std::uint64_t start_epoch_instructions = 0;  // ECDH key pair + ECDH + HKDF + ECDSA sign + state
  std::uint64_t reannounce_instructions = 0;   // ECDSA sign of the current announcement
  std::uint64_t open_command_instructions = 0;
};

enum class CostFileErrc {
  kOversized,          // over kMaxCryptoCostsBytes
  kMalformed,          // not JSON (a truncated file is this), or not an object
  kUnsupportedFormat,  // "format" or "version" is not this program's
  kMissingField,
  kWrongType,
  kOutOfRange,
  kUnknownField,       // a key version 1 does not define (a typo would be silently ignored)
  kUnreadable,         // the file cannot be read
};
std::string_view to_string(CostFileErrc c);

struct CostFileError {
  CostFileErrc code;
  std::string field;    // dotted path, e.g. "instructions.seal.aes-128-gcm"; empty for the whole file
  std::string message;  // "<source>: <field>: <problem>", one line for a person
};

// Parses a crypto cost file. Every field is required and checked; the error
// names the first bad field.
Result<CryptoCosts, CostFileError> parse_crypto_costs(std::string_view json_text, std::string_view source_name);

// A built-in set ("measured-cm4", the figures recorded in device-sdk/README.md)
// or a path to a file written by device-sdk/scripts/figures.sh --cost-file.
Result<CryptoCosts, CostFileError> load_crypto_costs(std::string_view name_or_path);
std::vector<std::string> builtin_crypto_cost_names();

// The E3 device operations' energy by one account.
struct DeviceCryptoFigures {
  double seal_uj = 0;         // one reading, the scenario's AEAD
  double start_epoch_uj = 0;  // one announcement of a new epoch
  double reannounce_uj = 0;   // re-signing the current announcement
  double open_command_uj = 0;
  double per_day_mj = 0;      // readings a day x seal + one epoch start (daily rotation)
  // Battery life counting only the reading's radio and E3's crypto, as the
  // chapter's "transmission and encryption only".
  double battery_days_tx_and_crypto = 0;
};

struct DeviceCryptoComparison {
  Aead aead = Aead::kAes128Gcm;
  double clock_mhz = 0;
  double nj_per_instruction = 0;
  CryptoCosts costs;
  DeviceCryptoFigures datasheet;  // from the profile
  DeviceCryptoFigures measured;   // from the instruction counts
};

// Both accounts for the report's profile and scenario. clock_mhz > 0.
DeviceCryptoComparison compare_device_crypto(const Report& report, const CryptoCosts& costs, double clock_mhz);

}  // namespace armored::energy
