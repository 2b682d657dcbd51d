#include "pki/index.h"

#include <nlohmann/json.hpp>

namespace armored::pki {

using nlohmann::json;

const Identity* Index::find(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : &identities_[it->second];
}

Identity* Index::find(std::string_view id) {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : &identities_[it->second];
}

void Index::add(Identity identity) {
  by_id_.emplace(identity.id, identities_.size());
  identities_.push_back(std::move(identity));
}

std::string Index::to_json() const {
  json list = json::array();
  for (const auto& i : identities_) {
    json row{{"id", i.id},
             {"role", role_name(i.role)},
             {"serial", i.serial},
             {"not_before", format_time(i.not_before)},
             {"not_after", format_time(i.not_after)}};
    if (!i.dns.empty()) row["dns"] = i.dns;
    if (!i.ips.empty()) row["ip"] = i.ips;
    if (i.revoked_at) row["revoked_at"] = format_time(*i.revoked_at);
    list.push_back(std::move(row));
  }
  json doc{{"format", kFormat}, {"name", name}, {"crl_number", crl_number}, {"identities", list}};
  return doc.dump(1) + "\n";
}

namespace {

Expected<TimePoint> time_field(const json& row, const char* key) {
  if (!row.contains(key) || !row[key].is_string()) return fail(std::string("missing ") + key);
  auto t = parse_time(row[key].get<std::string>());
  if (!t) return fail(std::string("bad time in ") + key);
  return *t;
}

Expected<std::vector<std::string>> strings_field(const json& row, const char* key) {
  std::vector<std::string> out;
  if (!row.contains(key)) return out;
  if (!row[key].is_array()) return fail(std::string(key) + " is not a list");
  for (const auto& v : row[key]) {
    if (!v.is_string()) return fail(std::string(key) + " holds a non-string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Expected<Identity> parse_row(const json& row) {
  if (!row.is_object()) return fail("an identity is not an object");
  Identity i;
  if (!row.contains("id") || !row["id"].is_string()) return fail("an identity has no id");
  i.id = row["id"].get<std::string>();
  if (auto ok = validate_id(i.id); !ok) return fail("identity '" + i.id + "'", ok.error());
  auto role = row.contains("role") && row["role"].is_string()
                  ? parse_role(row["role"].get<std::string>())
                  : std::nullopt;
  if (!role) return fail("identity " + i.id + " has no valid role");
  i.role = *role;
  if (!row.contains("serial") || !row["serial"].is_string())
    return fail("identity " + i.id + " has no serial");
  i.serial = row["serial"].get<std::string>();
  auto nb = time_field(row, "not_before");
  auto na = time_field(row, "not_after");
  if (!nb || !na) return fail("identity " + i.id + ": " + (!nb ? nb.error() : na.error()).message);
  i.not_before = *nb;
  i.not_after = *na;
  auto dns = strings_field(row, "dns");
  auto ips = strings_field(row, "ip");
  if (!dns || !ips) return fail("identity " + i.id + ": " + (!dns ? dns.error() : ips.error()).message);
  i.dns = std::move(*dns);
  i.ips = std::move(*ips);
  if (row.contains("revoked_at")) {
    auto r = time_field(row, "revoked_at");
    if (!r) return fail("identity " + i.id, r.error());
    i.revoked_at = *r;
  }
  return i;
}

}  // namespace

Expected<Index> Index::from_json(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return fail("not a JSON object");
  if (!doc.contains("format") || doc["format"] != kFormat)
    return fail("unknown format (expected " + std::to_string(kFormat) + ")");
  Index index;
  if (doc.contains("name") && doc["name"].is_string()) index.name = doc["name"].get<std::string>();
  if (!doc.contains("crl_number") || !doc["crl_number"].is_number_unsigned())
    return fail("missing crl_number");
  index.crl_number = doc["crl_number"].get<std::uint64_t>();
  if (!doc.contains("identities") || !doc["identities"].is_array()) return fail("missing identities");
  for (const auto& row : doc["identities"]) {
    auto i = parse_row(row);
    if (!i) return unexpected(i.error());
    if (index.find(i->id)) return fail("identity " + i->id + " appears twice");
    index.add(std::move(*i));
  }
  return index;
}

}  // namespace armored::pki
