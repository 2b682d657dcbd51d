#include "audit/report.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

namespace armored::audit {

namespace {

std::string where_text(const Location& w) {
  if (!w.endpoint.empty()) return w.endpoint;
  std::string s = w.path;
  if (w.line > 0) {
    s += ":" + std::to_string(w.line);
    if (w.column > 0) s += ":" + std::to_string(w.column);
  }
  if (w.offset) s += " @offset " + std::to_string(*w.offset);
  return s;
}

nlohmann::json location_json(const Location& w) {
  nlohmann::json j = nlohmann::json::object();
  if (!w.path.empty()) j["path"] = w.path;
  if (w.line > 0) j["line"] = w.line;
  if (w.column > 0) j["column"] = w.column;
  if (w.offset) j["offset"] = *w.offset;
  if (!w.endpoint.empty()) j["endpoint"] = w.endpoint;
  return j;
}

// SARIF levels: error, warning, note.
std::string sarif_level(Severity s) {
  if (s >= Severity::kHigh) return "error";
  if (s == Severity::kMedium) return "warning";
  return "note";
}

std::string sarif_uri(const std::string& path) {
  std::string out;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

}  // namespace

void sort_findings(Report& report) {
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::make_tuple(-static_cast<int>(a.severity), a.where.path,
                                            a.where.endpoint, a.where.line,
                                            a.where.offset.value_or(0)) <
                            std::make_tuple(-static_cast<int>(b.severity), b.where.path,
                                            b.where.endpoint, b.where.line,
                                            b.where.offset.value_or(0));
                   });
}

std::string render_text(const Report& report) {
  std::ostringstream out;
  std::map<Severity, int> counts;
  for (const auto& f : report.findings) counts[f.severity]++;
  out << "armored audit " << report.command << ": " << report.findings.size()
      << (report.findings.size() == 1 ? " finding" : " findings");
  if (!counts.empty()) {
    out << " (";
    bool first = true;
    for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
      out << (first ? "" : ", ") << it->second << " " << severity_name(it->first);
      first = false;
    }
    out << ")";
  }
  out << "\n";
  for (const auto& line : report.summary) out << "  " << line << "\n";
  if (report.suppressed > 0) out << "  " << report.suppressed << " suppressed by allowlist\n";
  for (const auto& f : report.findings) {
    std::string sev(severity_name(f.severity));
    for (auto& c : sev) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out << "\n[" << sev << "] " << f.rule_id << "  " << where_text(f.where) << "\n";
    out << "  finding:  " << f.message << "\n";
    if (!f.evidence.empty()) out << "  evidence: " << f.evidence << "\n";
    out << "  why:      " << f.why << "\n";
    out << "  fix:      " << f.fix << "\n";
  }
  return out.str();
}

nlohmann::json render_json(const Report& report) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : report.findings) {
    findings.push_back({{"rule", f.rule_id},
                        {"severity", severity_name(f.severity)},
                        {"location", location_json(f.where)},
                        {"evidence", f.evidence},
                        {"message", f.message},
                        {"why", f.why},
                        {"fix", f.fix}});
  }
  return {{"command", "audit " + report.command},
          {"targets", report.targets},
          {"findings", findings},
          {"suppressed", report.suppressed},
          {"summary", report.summary},
          {"details", report.details}};
}

nlohmann::json render_sarif(const Report& report) {
  nlohmann::json rules = nlohmann::json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& r : report.rules) {
    index[std::string(r.id)] = rules.size();
    rules.push_back({{"id", r.id},
                     {"name", r.id},
                     {"shortDescription", {{"text", r.title}}},
                     {"fullDescription", {{"text", r.why}}},
                     {"help", {{"text", r.fix}}},
                     {"defaultConfiguration", {{"level", sarif_level(r.severity)}}},
                     {"properties", {{"severity", severity_name(r.severity)}}}});
  }
  nlohmann::json results = nlohmann::json::array();
  for (const auto& f : report.findings) {
    nlohmann::json region = nlohmann::json::object();
    if (f.where.line > 0) region["startLine"] = f.where.line;
    if (f.where.column > 0) region["startColumn"] = f.where.column;
    if (f.where.offset) region["byteOffset"] = *f.where.offset;
    if (!f.evidence.empty()) region["snippet"] = {{"text", f.evidence}};
    nlohmann::json physical = {{"artifactLocation", {{"uri", sarif_uri(f.where.path)}}}};
    if (!region.empty()) physical["region"] = region;
    nlohmann::json result = {{"ruleId", f.rule_id},
                             {"level", sarif_level(f.severity)},
                             {"message", {{"text", f.message + ". " + f.fix}}},
                             {"locations", {{{"physicalLocation", physical}}}}};
    if (auto it = index.find(f.rule_id); it != index.end()) result["ruleIndex"] = it->second;
    results.push_back(result);
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs",
           {{{"tool",
              {{"driver",
                {{"name", "armored-audit-" + report.command},
                 {"version", "0.1.0"},
                 {"rules", rules}}}}},
             {"results", results}}}}};
}

}  // namespace armored::audit
