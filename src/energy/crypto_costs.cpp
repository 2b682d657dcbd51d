#include "energy/crypto_costs.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>

#include "common/file_io.h"
#include "energy/internal/builtin_profiles.h"

namespace armored::energy {

std::string_view to_string(CostFileErrc c) {
  switch (c) {
    case CostFileErrc::kOversized: return "oversized";
    case CostFileErrc::kMalformed: return "malformed";
    case CostFileErrc::kUnsupportedFormat: return "unsupported_format";
    case CostFileErrc::kMissingField: return "missing_field";
    case CostFileErrc::kWrongType: return "wrong_type";
    case CostFileErrc::kOutOfRange: return "out_of_range";
    case CostFileErrc::kUnknownField: return "unknown_field";
    case CostFileErrc::kUnreadable: return "unreadable";
  }
  return "?";
}

namespace {

using Json = nlohmann::json;
using Parsed = Result<CryptoCosts, CostFileError>;

// More instructions than a Cortex-M4 at 64 MHz runs in four hours: a typo.
constexpr std::uint64_t kMaxInstructions = 1'000'000'000'000ull;
constexpr std::size_t kMaxText = 256;

// Reads the fields of one JSON object, each by its dotted path, so every
// error names the field a person has to fix.
class Fields {
 public:
  Fields(const Json& obj, std::string path, std::string_view source)
      : obj_(obj), path_(std::move(path)), source_(source) {}

  Unexpected<CostFileError> error(CostFileErrc code, const std::string& key, const std::string& problem) const {
    const std::string field = name(key);
    return {CostFileError{code, field, std::string(source_) + ": " + field + ": " + problem}};
  }
  std::string name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  // A key of this object not in `known`.
  Result<void, CostFileError> only(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : obj_.items()) {
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok) return error(CostFileErrc::kUnknownField, key, "not a field of format version 1");
    }
    return {};
  }
  Result<const Json*, CostFileError> get(const std::string& key) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) return error(CostFileErrc::kMissingField, key, "missing");
    return &*it;
  }
  Result<std::string, CostFileError> text(const std::string& key) const {
    auto v = get(key);
    if (!v) return unexpected(v.error());
    if (!(*v)->is_string()) return error(CostFileErrc::kWrongType, key, "must be a string");
    auto s = (*v)->get<std::string>();
    if (s.empty() || s.size() > kMaxText) {
      return error(CostFileErrc::kOutOfRange, key, "must be 1.." + std::to_string(kMaxText) + " characters");
    }
    return s;
  }
  Result<std::uint64_t, CostFileError> count(const std::string& key, std::uint64_t lo, std::uint64_t hi) const {
    auto v = get(key);
    if (!v) return unexpected(v.error());
    // 1.5 or "14948" is not a count; a negative number is one out of range.
    if (!(*v)->is_number_integer()) return error(CostFileErrc::kWrongType, key, "must be a whole number");
    if (!(*v)->is_number_unsigned() || (*v)->get<std::uint64_t>() < lo || (*v)->get<std::uint64_t>() > hi) {
      return error(CostFileErrc::kOutOfRange, key, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return (*v)->get<std::uint64_t>();
  }
  Result<Fields, CostFileError> object(const std::string& key) const {
    auto v = get(key);
    if (!v) return unexpected(v.error());
    if (!(*v)->is_object()) return error(CostFileErrc::kWrongType, key, "must be an object");
    return Fields(**v, name(key), source_);
  }

 private:
  const Json& obj_;
  std::string path_;
  std::string_view source_;
};

#define COSTS_TRY(var, expr)                     \
  auto var = (expr);                             \
  if (!var) return unexpected(var.error())

}  // namespace

Parsed parse_crypto_costs(std::string_view text, std::string_view source) {
  const std::string src(source);
  if (text.size() > kMaxCryptoCostsBytes) {
    return unexpected(CostFileError{CostFileErrc::kOversized, "",
                                    src + ": over " + std::to_string(kMaxCryptoCostsBytes) + " bytes"});
  }
  const Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return unexpected(CostFileError{CostFileErrc::kMalformed, "",
                                    src + ": not a JSON object (truncated or not a crypto cost file)"});
  }
  const Fields root(doc, "", source);
  // Format and version first: a file of another kind or version is named as such.
  COSTS_TRY(format, root.text("format"));
  if (*format != kCryptoCostsFormat) {
    return root.error(CostFileErrc::kUnsupportedFormat, "format",
                      "is '" + *format + "', expected '" + std::string(kCryptoCostsFormat) + "'");
  }
  COSTS_TRY(version, root.count("version", 0, kMaxInstructions));
  if (*version != static_cast<std::uint64_t>(kCryptoCostsVersion)) {
    return root.error(CostFileErrc::kUnsupportedFormat, "version",
                      "is " + std::to_string(*version) + "; this program reads version " +
                          std::to_string(kCryptoCostsVersion));
  }
  if (auto r = root.only({"format", "version", "target", "measured_with", "reading_bytes",
                          "command_plaintext_bytes", "instructions"});
      !r) {
    return unexpected(r.error());
  }
  CryptoCosts c;
  c.source = src;
  COSTS_TRY(target, root.text("target"));
  c.target = *target;
  COSTS_TRY(with, root.text("measured_with"));
  c.measured_with = *with;
  COSTS_TRY(reading, root.count("reading_bytes", 1, 65000));
  c.reading_bytes = static_cast<unsigned>(*reading);
  COSTS_TRY(command, root.count("command_plaintext_bytes", 1, 65000));
  c.command_plaintext_bytes = static_cast<unsigned>(*command);

  COSTS_TRY(insn, root.object("instructions"));
  if (auto r = insn->only({"seal", "start_epoch", "reannounce", "open_command"}); !r) return unexpected(r.error());
  COSTS_TRY(seal, insn->object("seal"));
  if (auto r = seal->only({"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305", "aes-ccm-16-64-128"}); !r) {
    return unexpected(r.error());
  }
  for (Aead a : kAllAeads) {
    COSTS_TRY(n, seal->count(std::string(aead_name(a)), 1, kMaxInstructions));
    c.seal_instructions[static_cast<std::size_t>(a)] = *n;
  }
  COSTS_TRY(start, insn->count("start_epoch", 1, kMaxInstructions));
  c.start_epoch_instructions = *start;
  COSTS_TRY(reannounce, insn->count("reannounce", 1, kMaxInstructions));
  c.reannounce_instructions = *reannounce;
  COSTS_TRY(open, insn->count("open_command", 1, kMaxInstructions));
  c.open_command_instructions = *open;
  return c;
}

std::vector<std::string> builtin_crypto_cost_names() {
  std::vector<std::string> out;
  for (const auto& b : builtin_crypto_costs()) out.emplace_back(b.name);
  return out;
}

Parsed load_crypto_costs(std::string_view name_or_path) {
  for (const auto& b : builtin_crypto_costs()) {
    if (b.name == name_or_path) return parse_crypto_costs(b.text, b.name);
  }
  const std::string path(name_or_path);
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxCryptoCostsBytes) {
    return unexpected(CostFileError{CostFileErrc::kOversized, "",
                                    path + ": over " + std::to_string(kMaxCryptoCostsBytes) + " bytes"});
  }
  auto text = read_text_file(path, kMaxCryptoCostsBytes);
  if (!text) {
    std::string names;
    for (const auto& n : builtin_crypto_cost_names()) names += (names.empty() ? "" : ", ") + n;
    return unexpected(CostFileError{CostFileErrc::kUnreadable, "",
                                    path + ": " + text.error().message + " (built-in crypto costs: " + names + ")"});
  }
  return parse_crypto_costs(*text, path);
}

namespace {

const StrategyResult& persistent(const Report& r) {
  for (const auto& x : r.strategies) {
    if (x.strategy == Strategy::kPersistent) return x;
  }
  return r.strategies.front();
}

// Readings a day x seal + one epoch start a day (the 24 h rotation of
// docs/e3-protocol.md 7.1), and the battery life that leaves with the
// reading's radio cost.
void finish_day(const Report& r, double radio_uj, DeviceCryptoFigures& f) {
  const double per_day_uj = r.readings_per_day * f.seal_uj + f.start_epoch_uj;
  f.per_day_mj = per_day_uj / 1000.0;
  f.battery_days_tx_and_crypto = r.battery_uj / (r.readings_per_day * radio_uj + per_day_uj);
}

}  // namespace

DeviceCryptoComparison compare_device_crypto(const Report& r, const CryptoCosts& c, double clock_mhz) {
  const Profile& p = r.profile;
  DeviceCryptoComparison out;
  out.aead = r.scenario.aead;
  out.clock_mhz = clock_mhz;
  out.costs = c;
  // V x mA x ms = uJ; one instruction per cycle lasts 1 / (clock_mhz x 1000) ms.
  const double uj_per_insn = p.supply_voltage_v * p.cpu_current_ma / (clock_mhz * 1000.0);
  out.nj_per_instruction = uj_per_insn * 1000.0;
  const double cpu_uj_per_ms = p.supply_voltage_v * p.cpu_current_ma;

  DeviceCryptoFigures& d = out.datasheet;
  const AeadCost& seal = p.cost(out.aead);
  d.seal_uj = seal.uj_per_byte * r.scenario.reading_bytes + seal.uj_per_message;
  d.start_epoch_uj = (p.ecdhe_ms + p.ecdsa_sign_ms + p.hkdf_ms) * cpu_uj_per_ms;
  d.reannounce_uj = p.ecdsa_sign_ms * cpu_uj_per_ms;
  const AeadCost& open = p.cost(Aead::kAes128Gcm);  // as measured
  d.open_command_uj = open.uj_per_byte * c.command_plaintext_bytes + open.uj_per_message;

  DeviceCryptoFigures& m = out.measured;
  m.seal_uj = static_cast<double>(c.seal_instructions[static_cast<std::size_t>(out.aead)]) * uj_per_insn;
  m.start_epoch_uj = static_cast<double>(c.start_epoch_instructions) * uj_per_insn;
  m.reannounce_uj = static_cast<double>(c.reannounce_instructions) * uj_per_insn;
  m.open_command_uj = static_cast<double>(c.open_command_instructions) * uj_per_insn;

  const double radio_uj = persistent(r).radio_uj;
  finish_day(r, radio_uj, d);
  finish_day(r, radio_uj, m);
  return out;
}

}  // namespace armored::energy
