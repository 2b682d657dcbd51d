#include "audit/code_rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <regex>
#include <sstream>

namespace armored::audit {

namespace {

constexpr RuleInfo kRules[] = {
    {"tls-verify-disabled", Severity::kHigh, "TLS certificate verification switched off",
     "Without verification any machine in the path can present its own certificate and read "
     "or alter the traffic (man in the middle); TLS then only hides data from passive "
     "listeners.",
     "Verify the peer: load the CA that signed the server (SSL_VERIFY_PEER, CERT_REQUIRED, "
     "MBEDTLS_SSL_VERIFY_REQUIRED, rejectUnauthorized: true, InsecureSkipVerify: false)."},
    {"tls-hostname-check-disabled", Severity::kHigh, "TLS host-name check switched off",
     "A valid certificate for any other name is then accepted, so any certificate the CA "
     "issued to anyone impersonates your server.",
     "Keep host-name checking on (check_hostname = True, CURLOPT_SSL_VERIFYHOST 2) and "
     "connect with the name in the certificate."},
    {"tls-min-version-weak", Severity::kMedium, "Minimum TLS version below 1.2",
     "TLS 1.0/1.1 and SSL 3 lack AEAD suites and have known downgrade and padding-oracle "
     "attacks; allowing them lets an attacker force the weakest version both ends share.",
     "Set the minimum to TLS 1.2 (TLS 1.3 where every peer supports it)."},
    {"mqtt-plaintext", Severity::kHigh, "MQTT without TLS to a remote broker",
     "Port 1883 and mqtt:// or tcp:// URLs carry credentials and telemetry in clear text; "
     "anyone on the path reads and alters them.",
     "Use MQTT over TLS (port 8883, mqtts:// or ssl://) with certificate verification, "
     "ideally mutual TLS."},
    {"http-plaintext", Severity::kMedium, "Plain http:// endpoint on a remote host",
     "Data and tokens sent over http:// can be read and changed in transit.",
     "Use https:// with certificate verification."},
    {"exec-on-message", Severity::kCritical, "Received data executed as code or shell command",
     "exec/eval/system/popen on a received message lets whoever can publish to the device "
     "run arbitrary commands on it.",
     "Never execute received text: map commands through an allowlist to fixed functions and "
     "validate every parameter's type and range."},
};

const RuleInfo& rule(std::string_view id) { return code_rule(id); }

using Accept = std::function<bool(const std::smatch&, std::string_view line, std::string& message)>;

struct Pattern {
  const char* rule_id;
  std::regex re;
  const char* message;
  Accept accept;         // empty: every match is a finding
  std::string_view trigger;  // '|'-separated lower-case words, one must occur
};

bool triggered(std::string_view lowered, std::string_view trigger) {
  while (!trigger.empty()) {
    auto bar = trigger.find('|');
    if (lowered.find(trigger.substr(0, bar)) != std::string_view::npos) return true;
    if (bar == std::string_view::npos) break;
    trigger.remove_prefix(bar + 1);
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_doc_namespace_host(std::string_view host) {
  static const std::array<std::string_view, 14> kHosts = {
      "www.w3.org", "w3.org", "schemas.xmlsoap.org", "schemas.microsoft.com", "json-schema.org",
      "purl.org", "xmlns.com", "ns.adobe.com", "www.apache.org", "apache.org", "www.gnu.org",
      "gnu.org", "opensource.org", "creativecommons.org"};
  return std::find(kHosts.begin(), kHosts.end(), host) != kHosts.end();
}

// A host literal on the line that is local (for port-only MQTT matches).
bool line_names_local_host(std::string_view line) {
  static const std::regex kHost(R"re(["'`/@]\[?([A-Za-z0-9_.:\-\*]+?)\]?(?::\d+)?["'`/])re");
  std::string text(line);
  for (std::sregex_iterator it(text.begin(), text.end(), kHost), end; it != end; ++it) {
    if (is_local_host((*it).str(1))) return true;
  }
  return false;
}

// `curl ... -k` or `--insecure` (short flags may be combined: -sSk).
bool curl_insecure(std::string_view line, std::size_t from) {
  std::istringstream words{std::string(line.substr(from))};
  for (std::string w; words >> w;) {
    while (!w.empty() && (w.back() == '"' || w.back() == '\'' || w.back() == ',')) w.pop_back();
    while (!w.empty() && (w.front() == '"' || w.front() == '\'')) w.erase(w.begin());
    if (w == "--insecure") return true;
    if (w.size() >= 2 && w[0] == '-' && w[1] != '-' &&
        std::all_of(w.begin() + 1, w.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) &&
        w.find('k') != std::string::npos) {
      return true;
    }
    if (w == "|" || w == ";" || w == "&&") break;
  }
  return false;
}

// `x == 1883` or `1883 != x`: code that checks for the port, not code that uses it.
bool is_comparison_operand(std::string_view line, std::size_t pos) {
  auto before = line.substr(0, pos);
  auto b = before.find_last_not_of(" \t");
  if (b != std::string_view::npos && b >= 1) {
    auto op = before.substr(b - 1, 2);
    if (op == "==" || op == "!=") return true;
  }
  auto after = line.substr(std::min(line.size(), pos + 4));
  auto a = after.find_first_not_of(" \t");
  return a != std::string_view::npos && (after.substr(a, 2) == "==" || after.substr(a, 2) == "!=");
}

// Inside a double-quoted string with spaces: a message that mentions the
// port ("1883 is plaintext"), not an address or a setting.
bool in_prose_string(std::string_view line, std::size_t pos) {
  char quote = 0;
  std::size_t open = 0;
  for (std::size_t i = 0; i < pos; ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (quote == 0 && (line[i] == '"' || line[i] == '\'')) {
      quote = line[i];
      open = i;
    } else if (line[i] == quote) {
      quote = 0;
    }
  }
  if (quote == 0) return false;
  auto close = line.find(quote, pos);
  auto text = line.substr(open + 1, (close == std::string_view::npos ? line.size() : close) - open - 1);
  return text.find(' ') != std::string_view::npos;
}

// `mode != ssl.CERT_NONE`, `if verify == False`: code that tests for the
// setting, not code that makes it. Looks past the qualifier (ssl., SSL.).
bool compared_not_set(std::string_view line, std::size_t pos, std::size_t len) {
  std::size_t b = pos;
  while (b > 0 && (std::isalnum(static_cast<unsigned char>(line[b - 1])) || line[b - 1] == '_' || line[b - 1] == '.')) --b;
  auto before = line.substr(0, b);
  auto last = before.find_last_not_of(" \t");
  if (last != std::string_view::npos && last >= 1) {
    auto op = before.substr(last - 1, 2);
    if (op == "==" || op == "!=") return true;
  }
  auto after = line.substr(std::min(line.size(), pos + len));
  auto a = after.find_first_not_of(" \t");
  return a != std::string_view::npos && (after.substr(a, 2) == "==" || after.substr(a, 2) == "!=");
}

bool names_message(std::string_view args) {
  static const std::regex kMessage(
      R"(\b(msg|message|messages|payload|command|cmd|data|request|req|body|input|buf|buffer|packet|topic|line|text)\b)",
      std::regex::icase);
  std::string a(args);
  return std::regex_search(a, kMessage);
}

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> p = [] {
    auto f = std::regex::ECMAScript | std::regex::optimize;
    std::vector<Pattern> v;
    // Verification off. The OpenSSL constant is spelt in pieces so this file
    // itself never carries it.
    v.push_back({"tls-verify-disabled", std::regex(std::string(R"(\b(?:WOLF)?SSL_VERIFY_)") + "NO" "NE" + R"(\b)", f),
                 "OpenSSL/wolfSSL peer verification mode set to none", {}, "verify_"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\b(?:wolf)?SSL_(?:CTX_)?set_verify\s*\([^,]+,\s*0\s*,)re", f),
                 "OpenSSL/wolfSSL peer verification mode set to 0", {}, "set_verify"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bMBEDTLS_SSL_VERIFY_(?:NONE|OPTIONAL)\b)re", f),
                 "mbedTLS authmode does not require a verified peer", {}, "mbedtls_ssl_verify"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bCERT_NONE\b)re", f),
                 "Python ssl.CERT_NONE accepts any certificate", {}, "cert_none"});
    v.push_back({"tls-verify-disabled", std::regex(R"re((?:^|[^A-Za-z0-9_])verify\s*=\s*False\b)re", f),
                 "requests/httpx call with certificate verification off", {}, "verify"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bssl\.wrap_socket\s*\()re", f),
                 "ssl.wrap_socket without cert_reqs=CERT_REQUIRED verifies no certificate",
                 [](const std::smatch& m, std::string_view line, std::string&) {
                   // Only a call that closes on this line shows all its arguments.
                   auto args = line.substr(static_cast<std::size_t>(m.position(0) + m.length(0)));
                   return args.find(')') != std::string_view::npos &&
                          args.find("cert_reqs") == std::string_view::npos;
                 }, "wrap_socket"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\b_create_unverified_context\s*\()re", f),
                 "Python unverified SSL context", {}, "unverified"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\btls_insecure_set\s*\(\s*True\s*\))re", f),
                 "paho-mqtt tls_insecure_set turned on: host-name check skipped", {}, "tls_insecure_set"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\.\s*(?:verify|enableServerCertAuth)\s*=\s*0\b)re", f),
                 "Paho C SSL options with verification off", {}, "verify|servercertauth"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bInsecureSkipVerify\s*[:=]\s*true\b)re", f),
                 "Go tls.Config skips certificate verification (InsecureSkipVerify)", {}, "insecureskipverify"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\brejectUnauthorized\s*[:=]\s*false\b)re", f),
                 "Node.js TLS option rejectUnauthorized turned off", {}, "rejectunauthorized"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bNODE_TLS_REJECT_UNAUTHORIZED\b['"\]]*\s*=\s*['"]?0)re", f),
                 "NODE_TLS_REJECT_UNAUTHORIZED set to 0 turns verification off process-wide", {}, "node_tls_reject"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\b(?:CURLOPT_)?SSL_VERIFYPEER\s*(?:,|=>)\s*(?:0L?|false|FALSE|\(long\)\s*0)\b)re", f),
                 "libcurl CURLOPT_SSL_VERIFYPEER set to 0", {}, "ssl_verifypeer"});
    v.push_back({"tls-hostname-check-disabled", std::regex(R"re(\b(?:CURLOPT_)?SSL_VERIFYHOST\s*(?:,|=>)\s*(?:0L?|false|FALSE|\(long\)\s*0)\b)re", f),
                 "libcurl CURLOPT_SSL_VERIFYHOST set to 0", {}, "ssl_verifyhost"});
    v.push_back({"tls-hostname-check-disabled", std::regex(R"re(\bcheck_hostname\s*=\s*False\b)re", f),
                 "Python SSLContext host-name check turned off", {}, "check_hostname"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bcurl\b)re", f), "curl -k / --insecure",
                 [](const std::smatch& m, std::string_view line, std::string&) {
                   return curl_insecure(line, static_cast<std::size_t>(m.position(0) + m.length(0)));
                 }, "curl"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bwget\b.*--no-check-certificate\b)re", f),
                 "wget --no-check-certificate", {}, "wget"});
    v.push_back({"tls-verify-disabled", std::regex(R"re(\bdanger_accept_invalid_(?:certs|hostnames)\s*\(\s*true\s*\))re", f),
                 "Rust client accepting invalid certificates", {}, "danger_accept"});
    // Minimum versions below TLS 1.2.
    v.push_back({"tls-min-version-weak", std::regex(R"re(_set_min_proto_version\s*\([^,]+,\s*(?:TLS1_VERSION|TLS1_1_VERSION|SSL3_VERSION|0)\s*\))re", f),
                 "OpenSSL minimum protocol below TLS 1.2", {}, "_set_min_proto_version"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\b(?:TLSv1|TLSv1_1|SSLv3|SSLv2|DTLSv1)_(?:client_|server_)?method\s*\()re", f),
                 "OpenSSL version-specific method for an obsolete protocol", {}, "_method"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bSSL\.(?:TLSv1|TLSv1_1|SSLv2|SSLv3)_METHOD\b)re", f),
                 "pyOpenSSL method for an obsolete protocol", {}, "_method"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bwolf(?:TLSv1|TLSv1_1|SSLv3)_(?:client_|server_)?method\b)re", f),
                 "wolfSSL method for an obsolete protocol", {}, "wolf"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bwolfSSL_(?:CTX_)?SetMinVersion\s*\([^,]+,\s*WOLFSSL_(?:TLSV1|TLSV1_1|SSLV3)\s*\))re", f),
                 "wolfSSL minimum version below TLS 1.2", {}, "setminversion"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bMBEDTLS_SSL_MINOR_VERSION_[0-2]\b|\bMBEDTLS_SSL_VERSION_TLS1_[01]\b)re", f),
                 "mbedTLS minimum version below TLS 1.2", {}, "mbedtls_ssl_"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bPROTOCOL_(?:TLSv1|TLSv1_1|SSLv2|SSLv3)\b)re", f),
                 "Python ssl.PROTOCOL_* pinned to an obsolete protocol", {}, "protocol_"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bTLSVersion\.(?:TLSv1|TLSv1_1|SSLv3|MINIMUM_SUPPORTED)\b)re", f),
                 "Python minimum_version below TLS 1.2", {}, "tlsversion."});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bMinVersion\s*[:=]\s*tls\.Version(?:TLS10|TLS11|SSL30)\b)re", f),
                 "Go tls.Config MinVersion below TLS 1.2", {}, "minversion"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\b(?:minVersion|secureProtocol)\s*:\s*['"](?:TLSv1|TLSv1\.1|TLSv1_method|TLSv1_1_method|SSLv3_method)['"])re", f),
                 "Node.js minimum TLS version below 1.2", {}, "minversion|secureprotocol"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bCURL_SSLVERSION_(?:TLSv1_0|TLSv1_1|TLSv1|SSLv3)\b)re", f),
                 "libcurl CURLOPT_SSLVERSION below TLS 1.2", {}, "curl_sslversion_"});
    v.push_back({"tls-min-version-weak", std::regex(R"re((?:^|\s)--tlsv1(?:\.0|\.1)?(?=\s|$|["']))re", f),
                 "curl --tlsv1.0/--tlsv1.1 allows TLS below 1.2", {}, "--tlsv1"});
    v.push_back({"tls-min-version-weak", std::regex(R"re(\bgetInstance\s*\(\s*"(?:TLSv1|TLSv1\.1|SSLv3|SSL)"\s*\))re", f),
                 "Java SSLContext for an obsolete protocol", {}, "getinstance"});
    // Plaintext MQTT and HTTP.
    v.push_back({"mqtt-plaintext", std::regex(R"re(\b(mqtt|tcp|ws)://(?:[^\s/@"'`]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-\*]+))re", f),
                 "", [](const std::smatch& m, std::string_view, std::string& msg) {
                   std::string host = m.str(2);
                   if (is_local_host(host)) return false;
                   msg = m.str(1) + ":// URL to " + host + " (no TLS)";
                   return true;
                 }, "://"});
    v.push_back({"mqtt-plaintext", std::regex(R"re(\b1883\b)re", f), "MQTT port 1883 (no TLS)",
                 [](const std::smatch& m, std::string_view line, std::string&) {
                   std::string l = lower(line);
                   auto pos = static_cast<std::size_t>(m.position(0));
                   if (pos > 0 && (line[pos - 1] == '.' || std::isdigit(static_cast<unsigned char>(line[pos - 1])))) return false;
                   if (is_comparison_operand(line, pos) || in_prose_string(line, pos)) return false;
                   bool context = l.find("port") != std::string::npos || l.find("connect") != std::string::npos ||
                                  l.find("mqtt") != std::string::npos || l.find("mosquitto") != std::string::npos ||
                                  l.find("broker") != std::string::npos || (pos > 0 && line[pos - 1] == ':');
                   return context && l.find("://") == std::string::npos && !line_names_local_host(line);
                 }, "1883"});
    v.push_back({"http-plaintext", std::regex(R"re(\bhttp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+))re", f), "",
                 [](const std::smatch& m, std::string_view, std::string& msg) {
                   std::string host = lower(m.str(1));
                   if (is_local_host(host) || is_doc_namespace_host(host)) return false;
                   msg = "http:// endpoint on " + host;
                   return true;
                 }, "http://"});
    // Executing received data.
    v.push_back({"exec-on-message", std::regex(R"re((?:^|[^.\w])(exec|eval|system|popen|execSync|spawnSync)\s*\(([^)]*))re", f), "",
                 [](const std::smatch& m, std::string_view, std::string& msg) {
                   if (!names_message(m.str(2))) return false;
                   msg = m.str(1) + "() on received data";
                   return true;
                 }, "exec|eval|system|popen|spawnsync"});
    v.push_back({"exec-on-message", std::regex(R"re(\b(os\.system|os\.popen|child_process\.exec(?:Sync)?|subprocess\.(?:run|call|Popen|check_output|check_call|getoutput|getstatusoutput))\s*\(([^)]*))re", f), "",
                 [](const std::smatch& m, std::string_view line, std::string& msg) {
                   std::string fn = m.str(1);
                   if (!names_message(m.str(2))) return false;
                   bool shell = fn.starts_with("os.") || fn.starts_with("child_process") ||
                                (fn.find("output") != std::string::npos && fn.find("check_output") == std::string::npos);
                   if (!shell) {
                     static const std::regex kShellTrue(R"(\bshell\s*=\s*True\b)");
                     std::string l(line);
                     shell = std::regex_search(l, kShellTrue);
                   }
                   if (!shell) return false;
                   msg = fn + "() runs received data through a shell";
                   return true;
                 }, "os.|child_process|subprocess"});
    return v;
  }();
  return p;
}

}  // namespace

std::span<const RuleInfo> code_rules() { return kRules; }

const RuleInfo& code_rule(std::string_view id) {
  for (const auto& r : kRules) {
    if (r.id == id) return r;
  }
  return kRules[0];
}

bool is_local_host(std::string_view host) {
  std::string h = lower(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h == "localhost" || h.ends_with(".localhost") || h.starts_with("127.") || h == "::1" ||
         h == "0.0.0.0" || h == "*" || h == "::";
}

std::vector<CodeHit> scan_code_line(std::string_view code) {
  std::vector<CodeHit> hits;
  // Bound the regex engines' work on minified or generated lines.
  std::string text(code.substr(0, 4096));
  if (text.find_first_not_of(" \t") == std::string::npos) return hits;
  // Most lines mention none of the rules' words: skip the regexes for them.
  static const std::array<std::string_view, 29> kWords = {
      "unverified", "servercertauth", "wrap_socket",
      "verify", "cert_none", "insecure", "reject", "curl", "wget", "danger_", "proto_version", "method",
      "minversion", "min_version", "mbedtls", "protocol_", "tlsversion", "sslversion", "tlsv1", "getinstance",
      "://", "1883", "exec", "eval", "system", "popen", "spawnsync", "subprocess", "check_hostname"};
  std::string lowered = lower(text);
  if (std::none_of(kWords.begin(), kWords.end(),
                   [&](std::string_view w) { return lowered.find(w) != std::string::npos; })) {
    return hits;
  }
  for (const auto& p : patterns()) {
    if (!triggered(lowered, p.trigger)) continue;
    // An API setting inside a sentence ("refusing to run with verify=False")
    // is a message about it; command lines in strings (curl -k) still count.
    bool api_setting = p.rule_id != std::string_view("mqtt-plaintext") &&
                       p.rule_id != std::string_view("http-plaintext") &&
                       p.rule_id != std::string_view("exec-on-message") && p.trigger != "curl" &&
                       p.trigger != "wget" && p.trigger != "--tlsv1";
    for (std::sregex_iterator it(text.begin(), text.end(), p.re), end; it != end; ++it) {
      std::string msg = p.message;
      if (p.accept && !p.accept(*it, text, msg)) continue;
      if (api_setting && (in_prose_string(text, static_cast<std::size_t>(it->position(0))) ||
                          compared_not_set(text, static_cast<std::size_t>(it->position(0)),
                                           static_cast<std::size_t>(it->length(0))))) {
        continue;
      }
      auto col = static_cast<std::size_t>(it->position(0));
      auto len = static_cast<std::size_t>(it->length(0));
      // Leading boundary characters belong to the context, not the match.
      while (len > 0 && !std::isalnum(static_cast<unsigned char>(text[col])) && text[col] != '_' &&
             text[col] != '.' && text[col] != '-') {
        ++col;
        --len;
      }
      bool dup = std::any_of(hits.begin(), hits.end(), [&](const CodeHit& h) {
        return h.rule->id == p.rule_id && col < h.column + h.length && h.column < col + len;
      });
      if (!dup) hits.push_back({&rule(p.rule_id), col, len, msg});
    }
  }
  return hits;
}

}  // namespace armored::audit
