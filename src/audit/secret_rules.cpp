#include "audit/secret_rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <regex>

#include "audit/config_assignments.h"

namespace armored::audit {

namespace {

constexpr RuleInfo kRules[] = {
    {"private-key-pem", Severity::kCritical, "Private key in PEM form",
     "Anyone holding the file or firmware image can impersonate the device or server and "
     "decrypt recorded traffic; every copy shares the same key.",
     "Remove the key, revoke and rotate it, and provision per-device keys at manufacturing "
     "(secure element, TPM or an encrypted key store)."},
    {"private-key-der", Severity::kCritical, "Private key in DER (ASN.1) form",
     "A binary private key (PKCS#8, PKCS#1 RSA or SEC1 EC) is as usable as a PEM one; "
     "firmware extraction reveals it.",
     "Remove the key, revoke and rotate it; keep keys in a secure element or provision them "
     "per device."},
    {"cert-key-pair", Severity::kHigh, "Certificate and private key shipped together",
     "A certificate next to its private key is a ready-made identity: whoever copies both can "
     "authenticate as that device or service.",
     "Ship the certificate alone; generate the key on the device and have the CA sign a CSR."},
    {"aws-access-key-id", Severity::kCritical, "AWS access key id",
     "AWS key ids (AKIA/ASIA) identify live credentials; with the secret key nearby they "
     "give API access to the account.",
     "Deactivate the key in IAM, rotate it, and use instance roles or per-device credentials."},
    {"aws-secret-access-key", Severity::kCritical, "AWS secret access key",
     "The secret access key signs AWS API requests on behalf of its owner.",
     "Deactivate and rotate the key; load credentials from the environment or a role."},
    {"gcp-service-account-key", Severity::kCritical, "Google Cloud service account key file",
     "A service account JSON key carries a private key that authenticates as the account.",
     "Delete the key in IAM, rotate it, and use workload identity instead of key files."},
    {"azure-storage-key", Severity::kCritical, "Azure connection string with an account or SAS key",
     "AccountKey / SharedAccessKey values grant access to the storage account or IoT hub.",
     "Regenerate the key in the portal and provision per-device credentials."},
    {"slack-token", Severity::kHigh, "Slack token or webhook URL",
     "Slack tokens and webhooks let anyone post to or read from the workspace.",
     "Revoke the token or webhook and load it from configuration at run time."},
    {"github-token", Severity::kCritical, "GitHub token",
     "A GitHub token grants repository and API access with its owner's rights.",
     "Revoke the token on GitHub and use a secret store."},
    {"stripe-live-key", Severity::kCritical, "Stripe live secret key",
     "Live Stripe keys move real money.", "Roll the key in the Stripe dashboard."},
    {"google-api-key", Severity::kHigh, "Google API key",
     "API keys bill and authorise calls to Google APIs.",
     "Restrict or delete the key and load it from configuration."},
    {"service-token", Severity::kCritical, "Access token in a vendor's published format",
     "Tokens with a published prefix (GitLab, Hugging Face, Anthropic, OpenAI, Groq, Linear, "
     "Databricks, Figma, Grafana, Vault, Docker Hub, Shopify, SendGrid, Notion, 1Password, "
     "Vercel) authenticate as their owner wherever they are pasted, whatever they are named.",
     "Revoke the token with its vendor, issue a new one and load it from a secret store at run time."},
    {"npm-token", Severity::kCritical, "npm access token",
     "An npm token publishes packages under its owner's name: a supply-chain entry point.",
     "Revoke the token on npmjs.com and inject it in CI from a secret store."},
    {"hardcoded-password", Severity::kHigh,
     "Hard-coded password, token, API key or secret",
     "Credentials in source or firmware are shared by every device, cannot be rotated "
     "without a release, and leak with every copy of the code.",
     "Read the credential at run time from provisioned per-device storage or the "
     "environment; rotate the exposed value."},
    {"credentials-in-url", Severity::kHigh, "Credentials inside a URL",
     "user:password@ in a URL is stored and logged in clear, and with mqtt:// or http:// "
     "also sent in clear.",
     "Pass credentials separately from configuration, over TLS, and rotate the exposed ones."},
    {"high-entropy-secret", Severity::kMedium, "High-entropy string in a key-like name",
     "A random-looking literal assigned to a key, token or secret name is most likely key "
     "material.",
     "Move the value out of the code into provisioned storage; rotate it if it was real."},
};

const RuleInfo& rule(std::string_view id) { return secret_rule(id); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
}

// Characters of PEM body in `text`: segments (split at backslash escapes
// such as \n) that, once stripped of quotes and punctuation, are nothing
// but 16 or more base64 characters. Code that builds a PEM string (loops,
// declarations) has spaces and brackets and does not count.
std::size_t pem_body_chars(std::string_view text) {
  std::size_t total = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = text.find('\\', start);
    std::string_view seg = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    constexpr std::string_view kTrim = " \t\"'`,;()";
    auto b = seg.find_first_not_of(kTrim);
    auto e = seg.find_last_not_of(kTrim);
    if (b != std::string_view::npos) {
      seg = seg.substr(b, e - b + 1);
      if (seg.size() >= 16 && std::all_of(seg.begin(), seg.end(), is_base64_char)) total += seg.size();
    }
    if (end == std::string_view::npos || end + 2 > text.size()) break;
    start = end + 2;  // the backslash and the escaped character
  }
  return total;
}

// Splits an identifier into lower-case words at '_', '-', '.', and camelCase.
std::vector<std::string> name_words(std::string_view name) {
  std::vector<std::string> words;
  std::string cur;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(name[i - 1]));
    if (c == '_' || c == '-' || c == '.' || c == '$' || (upper && prev_lower)) {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
      if (!upper) continue;
    }
    cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

// A name whose last word (or last two words) says "credential".
bool is_credential_name(std::string_view name) {
  auto w = name_words(name);
  if (w.empty()) return false;
  static const std::array<std::string_view, 11> kLast = {
      "password", "passwd", "pwd", "pass", "passphrase", "secret",
      "token", "apikey", "credentials", "credential", "psk"};
  if (std::find(kLast.begin(), kLast.end(), w.back()) != kLast.end()) return true;
  // Run-together names: PGPASSWORD, ROOTPASSWORD, CLIENTSECRET.
  for (std::string_view tail : {"password", "passwd", "passphrase", "secret"}) {
    if (w.back().size() > tail.size() && w.back().ends_with(tail)) return true;
  }
  if (w.size() >= 2 && w.back() == "key") {
    static const std::array<std::string_view, 9> kKeyPrefix = {
        "api", "secret", "access", "private", "auth", "signing", "encryption", "master", "app"};
    const auto& p = w[w.size() - 2];
    if (std::find(kKeyPrefix.begin(), kKeyPrefix.end(), p) != kKeyPrefix.end()) return true;
  }
  return false;
}

// A looser "key-ish" name for the entropy rule.
bool is_keyish_name(std::string_view name) {
  if (is_credential_name(name)) return true;
  // Public material, digests and metadata about a key are random-looking
  // but not secret.
  auto words = name_words(name);
  static const std::array<std::string_view, 9> kPublic = {
      "public", "pub", "fingerprint", "hash", "checksum", "digest", "sha1", "sha256", "md5"};
  static const std::array<std::string_view, 12> kMeta = {
      "id", "uuid", "len", "length", "size", "count", "name", "path", "file", "url", "type", "version"};
  for (const auto& w : words) {
    if (std::find(kPublic.begin(), kPublic.end(), w) != kPublic.end()) return false;
  }
  if (!words.empty() && std::find(kMeta.begin(), kMeta.end(), words.back()) != kMeta.end()) return false;
  static const std::array<std::string_view, 12> kWords = {
      "key", "secret", "token", "auth", "cred", "signature", "sig", "hmac", "psk", "salt", "seed",
      "private"};
  for (const auto& w : name_words(name)) {
    if (std::find(kWords.begin(), kWords.end(), w) != kWords.end()) return true;
  }
  return false;
}

// "glpat-xxxxxxxxxxxxxxxxxxxx", "ghp_000000...": documentation fill, not a
// token. Six equal characters in a row almost never occur in random tokens.
bool has_filler_run(std::string_view v) {
  std::size_t run = 1;
  for (std::size_t i = 1; i < v.size(); ++i) {
    run = v[i] == v[i - 1] ? run + 1 : 1;
    if (run >= 6) return true;
  }
  return false;
}

bool all_same_char(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [&](char c) { return c == v[0]; });
}

std::string_view unquote(std::string_view lit) {
  if (lit.size() >= 2 && (lit.front() == '"' || lit.front() == '\'' || lit.front() == '`') &&
      lit.back() == lit.front()) {
    return lit.substr(1, lit.size() - 2);
  }
  return lit;
}

// "TLS_PSK_WITH_AES_128_CCM", "PSK-AES256-GCM-SHA384": three or more words
// joined by '_', '-' or '.', mostly letters (digits only at a word's end).
// Random key material rarely splits into runs like that.
bool looks_like_identifier(std::string_view v) {
  std::size_t words = 0, alphabetic = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] != '_' && v[i] != '-' && v[i] != '.') continue;
    auto w = v.substr(start, i - start);
    start = i + 1;
    bool digits = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (w.empty() || digits) continue;
    ++words;
    // A word: two or more letters, then digits at most ("SHA256", "tc26").
    std::size_t letters = 0;
    while (letters < w.size() && std::isalpha(static_cast<unsigned char>(w[letters]))) ++letters;
    if (letters >= 2 && std::all_of(w.begin() + static_cast<std::ptrdiff_t>(letters), w.end(),
                                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      ++alphabetic;
    }
  }
  return words >= 3 && alphabetic * 3 >= words * 2;
}

// A value that spells its own kind ("userPassword", "kxPSK",
// "id-regCtrl-regToken"): a label or an OID name, not a credential.
bool names_itself(std::string_view value) {
  if (!std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      })) {
    return false;
  }
  std::string v = lower(value);
  for (std::string_view w : {"password", "passwd", "passphrase", "secret", "token", "psk"}) {
    if (v.find(w) != std::string::npos) return true;
  }
  return false;
}

bool high_entropy(std::string_view v) {
  if (v.size() < 20 || v.size() > 512) return false;
  if (looks_like_identifier(v)) return false;
  bool hex = std::all_of(v.begin(), v.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  bool b64 = std::all_of(v.begin(), v.end(), [](char c) {
    return is_base64_char(c) || c == '-' || c == '_';
  });
  if (!b64) return false;
  bool digit = std::any_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  bool alpha = std::any_of(v.begin(), v.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  if (!digit || !alpha) return false;
  double h = shannon_entropy(v);
  if (hex) return v.size() >= 32 && h >= 3.0;
  return h >= 3.7;
}

struct Pattern {
  const char* rule_id;
  std::regex re;
  int secret_group;          // capture group holding the secret
  const char* trigger;       // '|'-separated lower-case words, one must occur first
};

bool any_word(std::string_view lowered, std::string_view words) {
  while (!words.empty()) {
    auto bar = words.find('|');
    if (lowered.find(words.substr(0, bar)) != std::string_view::npos) return true;
    if (bar == std::string_view::npos) break;
    words.remove_prefix(bar + 1);
  }
  return false;
}

const std::vector<Pattern>& shape_patterns() {
  static const std::vector<Pattern> p = [] {
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    std::vector<Pattern> v;
    v.push_back({"aws-access-key-id", std::regex(R"((?:^|[^A-Z0-9])(AKIA[A-Z2-7]{16})(?![A-Z0-9]))", flags), 1, "akia"});
    v.push_back({"aws-access-key-id", std::regex(R"((?:^|[^A-Z0-9])(ASIA[A-Z2-7]{16})(?![A-Z0-9]))", flags), 1, "asia"});
    v.push_back({"aws-secret-access-key",
                 std::regex(R"([Aa][Ww][Ss].{0,24}[Ss][Ee][Cc][Rr][Ee][Tt].{0,24}?[=:]\s*["'`]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+]))", flags), 1, "aws"});
    v.push_back({"gcp-service-account-key", std::regex(R"re("private_key_id"\s*:\s*"([0-9a-f]{40})")re", flags), 1, "private_key_id"});
    v.push_back({"azure-storage-key", std::regex(R"((?:AccountKey)=([A-Za-z0-9+/=]{20,}))", flags), 1, "accountkey="});
    v.push_back({"azure-storage-key", std::regex(R"((?:SharedAccessKey)=([A-Za-z0-9+/=]{20,}))", flags), 1, "sharedaccesskey="});
    v.push_back({"slack-token", std::regex(R"((xox[abposr]-[0-9A-Za-z-]{10,80}))", flags), 1, "xox"});
    v.push_back({"slack-token", std::regex(R"(hooks\.slack\.com/services/(T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{16,}))", flags), 1, "hooks.slack.com"});
    v.push_back({"github-token", std::regex(R"((gh[pousr]_[A-Za-z0-9]{36,255}))", flags), 1, "ghp_|gho_|ghu_|ghs_|ghr_"});
    v.push_back({"github-token", std::regex(R"((github_pat_[A-Za-z0-9_]{22,255}))", flags), 1, "github_pat_"});
    v.push_back({"stripe-live-key", std::regex(R"(((?:sk|rk)_live_[0-9A-Za-z]{16,99}))", flags), 1, "_live_"});
    v.push_back({"hardcoded-password",
                 std::regex(R"re(username_pw_set\s*\(\s*["'][^"']*["']\s*,\s*(?:password\s*=\s*)?["']([^"']{4,})["'])re", flags), 1, "username_pw_set"});
    v.push_back({"google-api-key", std::regex(R"((AIza[0-9A-Za-z_\-]{35}))", flags), 1, "aiza"});
    // Vendor formats as the vendors (and secretlint's preset) publish them.
    // The leading group stands in for a look-behind, which ECMAScript lacks.
    const std::string b = R"((?:^|[^A-Za-z0-9_]))";
    auto vendor = [&](const std::string& re, const char* trigger) {
      v.push_back({"service-token", std::regex(b + "(" + re + ")", flags), 1, trigger});
    };
    vendor(R"(glpat-[A-Za-z0-9_\-]{20,128}(?![A-Za-z0-9_\-]))", "glpat-");
    vendor(R"(hf_[A-Za-z]{34}(?![A-Za-z]))", "hf_");
    vendor(R"(sk-ant-(?:api|admin)0\d-[A-Za-z0-9_\-]{90,128}AA(?![A-Za-z0-9_\-]))", "sk-ant-");
    vendor(R"(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{58,74}T3BlbkFJ[A-Za-z0-9_\-]{58,74})", "t3blbkfj");
    vendor(R"(gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9]))", "gsk_");
    vendor(R"(lin_api_[A-Za-z0-9_]{32,128}(?![A-Za-z0-9_]))", "lin_api_");
    vendor(R"(dapi[a-fA-F0-9]{32}(?:-\d)?(?![A-Fa-f0-9]))", "dapi");
    vendor(R"(figd_[A-Za-z0-9_\-]{40,200}(?![A-Za-z0-9_\-]))", "figd_");
    vendor(R"(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Fa-f0-9]))", "glsa_");
    vendor(R"(glc_[A-Za-z0-9+/]{32,400}={0,2}(?![A-Za-z0-9+/=]))", "glc_");
    vendor(R"(hv[sbr]\.[A-Za-z0-9_\-]{90,300}(?![A-Za-z0-9_\-]))", "hvs.|hvb.|hvr.");
    vendor(R"(dckr_pat_[A-Za-z0-9_\-]{27}(?![A-Za-z0-9_\-]))", "dckr_pat_");
    vendor(R"(shp(?:pa|ca|at|ss)_[A-Za-z0-9]{32,64}(?![A-Za-z0-9]))", "shppa_|shpca_|shpat_|shpss_");
    vendor(R"(SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}(?![A-Za-z0-9_\-]))", "sg.");
    vendor(R"(ntn_[0-9]{11}[A-Za-z0-9]{35}(?![A-Za-z0-9]))", "ntn_");
    vendor(R"(ops_ey[A-Za-z0-9+/=]{100,1280}fQ={0,2}(?![A-Za-z0-9+/=]))", "ops_ey");
    vendor(R"(vc[pirak]_[A-Za-z0-9]{20,60}(?![A-Za-z0-9]))", "vcp_|vci_|vcr_|vca_|vck_");
    vendor(R"(xapp-\d-[A-Za-z0-9]{6,}-\d{6,}-[A-Za-z0-9]{20,})", "xapp-");
    v.push_back({"npm-token", std::regex(R"((?:^|[^A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9]))", flags), 1, "npm_"});
    return v;
  }();
  return p;
}

const std::regex& url_credentials_re() {
  static const std::regex re(
      R"(([A-Za-z][A-Za-z0-9+.\-]{1,15})://([^\s:/@"'<>`]{1,64}):([^\s@/"'<>`]{1,128})@[A-Za-z0-9.\-\[])",
      std::regex::ECMAScript | std::regex::optimize);
  return re;
}

// NAME op "literal" in code and quoted config values.
const std::regex& quoted_assignment_re() {
  static const std::regex re(
      R"re((?:^|[^A-Za-z0-9_$])["']?([A-Za-z_$][A-Za-z0-9_.\-]{0,80})["']?\s*(?:\[[^\]]{0,16}\]\s*)?(?::=|=>|=|:\s*[A-Za-z_][A-Za-z0-9_.]*\s*=|:|\{)\s*(?:(?:std::string_view|std::string|String::from|String|QString|\[\]byte|str|bytes)\s*[({]\s*)?(?:u8|[bBrRuULf])?("(?:[^"\\]|\\.){0,512}"|'(?:[^'\\]|\\.){0,512}'|`[^`]{0,512}`))re",
      std::regex::ECMAScript | std::regex::optimize);
  return re;
}

const std::regex& define_re() {
  static const std::regex re(
      R"re(^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(?:u8|L)?("(?:[^"\\]|\\.){0,512}"))re",
      std::regex::ECMAScript | std::regex::optimize);
  return re;
}

// "/run/secrets/db", "./certs/key.pem", "~/.mqtt/pass": where the secret is
// read from, not the secret.
bool looks_like_path(std::string_view v) {
  if (!(v.starts_with("/") || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/"))) return false;
  if (v.find('/', 1) == std::string_view::npos) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' || c == '-' || c == '~';
  });
}

bool has_test_vector_marker(std::string_view lowered) {
  for (std::string_view m : {"test vector", "test-vector", "test_vector", "testvector", "test fixture",
                             "test-fixture", "test_fixture"}) {
    if (lowered.find(m) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::span<const RuleInfo> secret_rules() { return kRules; }

const RuleInfo& secret_rule(std::string_view id) {
  for (const auto& r : kRules) {
    if (r.id == id) return r;
  }
  return kRules[0];
}

double shannon_entropy(std::string_view s) {
  if (s.empty()) return 0.0;
  std::array<std::size_t, 256> counts{};
  for (char c : s) counts[static_cast<unsigned char>(c)]++;
  double h = 0.0;
  for (auto n : counts) {
    if (n == 0) continue;
    double p = static_cast<double>(n) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

bool is_placeholder(std::string_view value) {
  std::string v = lower(value);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  if (v.size() < 4) return true;
  if (all_same_char(v)) return true;
  if (v.front() == '<' && v.back() == '>') return true;
  if (v.front() == '$' || v.front() == '%') return true;
  static const std::array<std::string_view, 22> kMarkers = {
      "changeme", "change_me", "change-me", "${", "{{", "xxxx", "****", "...", "example",
      "placeholder", "dummy", "redacted", "your_", "your-", "yourpass", "insert", "replace",
      "sample", "fake", "<", "os.environ", "getenv"};
  for (auto m : kMarkers) {
    if (v.find(m) != std::string::npos) return true;
  }
  // References to a secret kept elsewhere: a secret store, an encrypted
  // blob (sops, jasypt), an Azure Key Vault or 1Password reference, a file.
  static const std::array<std::string_view, 11> kReferences = {
      "op://", "vault:", "enc(", "enc[", "arn:aws:secretsmanager:", "arn:aws:ssm:",
      "@microsoft.keyvault(", "secretref:", "file:", "env:", "env("};
  for (auto r : kReferences) {
    if (v.starts_with(r)) return true;
  }
  if (looks_like_path(v)) return true;
  // systemd's LoadCredential=ID:/path names a file holding the secret.
  if (auto colon = v.find(":/"); colon != std::string::npos && looks_like_path(v.substr(colon + 1))) return true;
  // Format and template fields: "{0}:{1}", "{user}", "%s", "%(name)s".
  if (v.find("%s") != std::string::npos || v.find("%(") != std::string::npos) return true;
  if (auto open = v.find('{'); open != std::string::npos) {
    auto close = v.find('}', open);
    if (close != std::string::npos &&
        std::all_of(v.begin() + static_cast<std::ptrdiff_t>(open) + 1, v.begin() + static_cast<std::ptrdiff_t>(close),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; })) {
      return true;
    }
  }
  static const std::array<std::string_view, 14> kWords = {
      "password", "passwd", "secret", "token", "none", "null", "nil", "true", "false",
      "undefined", "pass", "apikey", "api_key", "empty"};
  return std::find(kWords.begin(), kWords.end(), v) != kWords.end();
}

void SecretLineScanner::feed(std::string_view line, std::uint64_t position,
                             std::vector<SecretHit>& out) {
  // Windows of kMaxLine bytes overlapping by a quarter keep the regexes bounded.
  if (line.size() <= kMaxLine) {
    scan_window(line, position, out);
    return;
  }
  std::size_t before = out.size();
  for (std::size_t start = 0; start < line.size(); start += kMaxLine * 3 / 4) {
    std::vector<SecretHit> hits;
    scan_window(line.substr(start, kMaxLine), position, hits);
    for (auto& h : hits) {
      h.column += start;
      bool dup = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
                             [&](const SecretHit& o) { return o.column == h.column && o.rule == h.rule; });
      if (!dup) out.push_back(std::move(h));
    }
    if (start + kMaxLine >= line.size()) break;
  }
}

void SecretLineScanner::check_pem(std::string_view line, std::uint64_t position,
                                  bool suppressed, std::vector<SecretHit>& out) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kDashes = "-----";
  // Body of pending headers: count base64 characters, ignoring quotes, escapes
  // and string concatenation noise.
  for (auto& p : pending_) {
    p.base64_seen += pem_body_chars(line);
    p.lines_left--;
  }
  std::size_t from = 0;
  while ((from = line.find(kBegin, from)) != std::string_view::npos) {
    std::size_t label_start = from + kBegin.size();
    std::size_t label_end = line.find(kDashes, label_start);
    if (label_end == std::string_view::npos || label_end - label_start > 40) break;
    std::string_view label = line.substr(label_start, label_end - label_start);
    if (label.find("CERTIFICATE") != std::string_view::npos) saw_certificate_ = true;
    bool is_key = label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK");
    if (is_key) {
      PendingPem p{position, from, std::string(label), 4, 0, suppressed};
      // The body may follow on the same line (C strings with \n escapes).
      p.base64_seen = pem_body_chars(line.substr(label_end + kDashes.size()));
      pending_.push_back(std::move(p));
    }
    from = label_end;
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->base64_seen >= 48) {
      if (!it->suppressed) {
        saw_private_key_ = true;
        out.push_back({&rule("private-key-pem"), it->position, it->column,
                       "-----BEGIN " + it->label + "----- [body redacted]",
                       "Private key (" + it->label + ") in PEM form"});
      }
      it = pending_.erase(it);
    } else if (it->lines_left <= 0) {
      it = pending_.erase(it);  // a header without a body: documentation, not a key
    } else {
      ++it;
    }
  }
}

void SecretLineScanner::scan_window(std::string_view line, std::uint64_t position,
                                    std::vector<SecretHit>& out) {
  std::string lowered = lower(line);
  if (has_test_vector_marker(lowered)) test_vector_lines_ = 3;
  bool inline_allowed = lowered.find(kInlineAllowMarker) != std::string::npos;
  bool suppressed = test_vector_lines_ > 0 || inline_allowed;
  if (test_vector_lines_ > 0) test_vector_lines_--;

  // Key material under a test-vector marker is deliberate.
  check_pem(line, position, suppressed, out);
  if (suppressed) return;

  // Spans already reported on this line; later, looser rules skip them.
  std::vector<std::pair<std::size_t, std::size_t>> taken;
  auto overlaps = [&](std::size_t b, std::size_t e) {
    return std::any_of(taken.begin(), taken.end(),
                       [&](const auto& t) { return b < t.second && t.first < e; });
  };
  auto report = [&](std::string_view id, std::size_t b, std::size_t len, std::string msg) {
    taken.emplace_back(b, b + len);
    out.push_back({&rule(id), position, b, redact_span(line, b, len), std::move(msg)});
  };
  std::string text(line);

  for (const auto& p : shape_patterns()) {
    if (!any_word(lowered, p.trigger)) continue;
    for (std::sregex_iterator it(text.begin(), text.end(), p.re), end; it != end; ++it) {
      const auto& m = *it;
      auto b = static_cast<std::size_t>(m.position(p.secret_group));
      auto len = static_cast<std::size_t>(m.length(p.secret_group));
      std::string value = m.str(p.secret_group);
      if (overlaps(b, b + len)) continue;
      if (lower(value).find("example") != std::string::npos || has_filler_run(value)) continue;
      if (std::string_view(p.rule_id) == "hardcoded-password" && is_placeholder(value)) continue;
      report(p.rule_id, b, len, {});
    }
  }
  if (kind_ == TextKind::kLockFile) return;

  if (lowered.find("://") != std::string::npos) {
    for (std::sregex_iterator it(text.begin(), text.end(), url_credentials_re()), end; it != end; ++it) {
      const auto& m = *it;
      std::string pass = m.str(3);
      if (is_placeholder(pass) || pass.find('{') != std::string::npos) continue;
      auto b = static_cast<std::size_t>(m.position(3));
      if (overlaps(b, b + pass.size())) continue;
      report("credentials-in-url", b, pass.size(),
             "Password for user '" + m.str(2) + "' inside a " + m.str(1) + ":// URL");
    }
  }

  auto assignment = [&](const std::string& name, std::size_t b, std::string_view value) {
    if (overlaps(b, b + value.size())) return;
    if (is_credential_name(name) && !is_placeholder(value) && !names_itself(value) &&
        value.find(' ') == std::string_view::npos) {
      report("hardcoded-password", b, value.size(), "Literal assigned to '" + name + "'");
    } else if (is_keyish_name(name) && high_entropy(value)) {
      report("high-entropy-secret", b, value.size(),
             "Random-looking literal assigned to '" + name + "'");
    }
  };
  // A Kubernetes env entry's value line names no credential itself: the
  // tracker sees every line, before the keyword filter below.
  if (kind_ == TextKind::kConfig) {
    if (auto e = env_entries_.feed(line); !e.name.empty()) assignment(e.name, e.value_column, e.value);
  }
  // Configuration also writes `ENV NAME value` and `remote_password value`.
  bool has_op = kind_ == TextKind::kConfig || kind_ == TextKind::kBinaryString ||
                line.find_first_of("=:{") != std::string_view::npos || lowered.find("define") != std::string::npos;
  bool keyish_word = false;
  for (std::string_view w : {"pass", "pwd", "secret", "token", "key", "auth", "cred", "sig", "hmac", "psk", "salt", "seed"}) {
    if (lowered.find(w) != std::string::npos) { keyish_word = true; break; }
  }
  if (!has_op || !keyish_word) return;

  // Firmware embeds JSON and C-style configuration as strings too, so
  // quoted values count in binary strings as well.
  {
    for (const auto* re : {&quoted_assignment_re(), &define_re()}) {
      for (std::sregex_iterator it(text.begin(), text.end(), *re), end; it != end; ++it) {
        const auto& m = *it;
        std::string lit = m.str(2);
        std::string_view value = unquote(lit);
        auto b = static_cast<std::size_t>(m.position(2)) + (lit.size() - value.size()) / 2;
        assignment(m.str(1), b, value);
      }
    }
  }
  if (kind_ == TextKind::kConfig || kind_ == TextKind::kBinaryString) {
    for (const auto& a : config_assignments(line, kind_ == TextKind::kConfig)) {
      assignment(a.name, a.value_column, a.value);
    }
  }
  if (auto e = name_value_entry(line); !e.name.empty()) assignment(e.name, e.value_column, e.value);
}

}  // namespace armored::audit
