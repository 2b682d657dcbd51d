#include "audit/fleet_checks.h"

#include <ctime>
#include <map>

namespace armored::audit {

namespace {

using std::chrono::days;

const RuleInfo kSharedCert{
    "fleet-shared-certificate", Severity::kCritical,
    "One certificate is installed under several identities",
    "Every device holding it can pose as the others: the cloud cannot tell them apart, revoking one "
    "cuts them all off, and one leaked device key compromises the whole group.",
    "Issue each identity its own key and certificate (armored pki issue), install them, then revoke the "
    "shared one."};
const RuleInfo kSharedKey{
    "fleet-shared-key", Severity::kCritical, "Several certificates carry the same public key",
    "Whoever holds that private key can authenticate as every identity certified for it; the "
    "certificates only look separate.",
    "Generate a fresh key per identity (armored pki issue does), re-issue the affected identities and "
    "revoke the old certificates."};
const RuleInfo kIdentityMismatch{
    "fleet-identity-mismatch", Severity::kHigh,
    "A certificate file names a different identity than its file name",
    "The peer connects as the identity inside the certificate, so the identity named by the file never "
    "authenticates as itself and the other identity appears twice.",
    "Install <role>/<id>.crt issued for <id>; re-issue with armored pki issue."};
const RuleInfo kIndexMismatch{
    "fleet-index-mismatch", Severity::kMedium,
    "A certificate file does not hold the serial the PKI index records",
    "The file was replaced outside armored pki: whatever is deployed from it was not issued for this "
    "identity, and revocation by the index's serial would miss it.",
    "Find out who replaced the file; re-issue the identity with armored pki and revoke the stray serial."};
const RuleInfo kCaExpired{"fleet-ca-expired", Severity::kCritical, "A CA certificate has expired",
                          "Every certificate below it stops verifying: the whole fleet is locked out.",
                          "Create a new PKI (armored pki init) and re-issue every identity before the old "
                          "CA expires."};
const RuleInfo kCaExpiring{"fleet-ca-expiring", Severity::kHigh, "A CA certificate expires within the window",
                           "When it expires every identity below it stops verifying at once.",
                           "Plan the move to a new PKI now: init a new one, re-issue and roll out identities, "
                           "trust both roots meanwhile."};
const RuleInfo kCertExpired{"fleet-cert-expired", Severity::kMedium, "An identity certificate has expired",
                            "The identity can no longer connect; a device still in service has gone silent.",
                            "Re-issue the identity (a new ID with armored pki issue) or retire the device."};
const RuleInfo kCertExpiring{"fleet-cert-expiring", Severity::kMedium,
                             "An identity certificate expires within the window",
                             "The identity will be refused when it expires; devices in the field need time "
                             "to receive a new certificate.",
                             "Issue and deliver a new certificate before the expiry date."};
const RuleInfo kWeakKey{"fleet-weak-key", Severity::kHigh,
                        "A certificate has a weak key (RSA/DSA under 2048 bits, EC under 256 bits or an "
                        "uncommon curve)",
                        "A weak key can be factored or its discrete logarithm found with feasible effort, "
                        "after which anyone can impersonate the holder.",
                        "Re-issue with an ECDSA P-256 key (armored pki issue) and revoke the weak certificate."};
const RuleInfo kNotP256{"fleet-key-not-p256", Severity::kMedium, "A certificate's key is not ECDSA P-256",
                        "Armored peers use the certified key for P-256 ECDH (E3) and ECDSA P-256 signatures; "
                        "other keys cannot take part and point to a certificate made outside the fleet PKI.",
                        "Re-issue the identity with armored pki issue."};
const RuleInfo kWeakSig{"fleet-weak-signature", Severity::kHigh,
                        "A certificate is signed with a broken hash (MD5 or SHA-1)",
                        "Collisions in these hashes let an attacker obtain a signature valid for a "
                        "certificate of their choosing.",
                        "Re-issue with SHA-256 (armored pki issue) and revoke the old certificate."};
const RuleInfo kRevokedConnected{
    "fleet-revoked-connected", Severity::kCritical, "A revoked identity connected after its revocation",
    "Revocation did not take effect: the cloud accepted a certificate it should refuse, typically because "
    "it still uses a CRL loaded before the revocation.",
    "Restart the cloud after every armored pki revoke (armored cloud reads crl.pem when it starts); then "
    "check what the identity did after the revocation time."};
const RuleInfo kRevokedNotInCrl{
    "fleet-revoked-not-in-crl", Severity::kHigh, "An identity revoked in the index is missing from crl.pem",
    "Peers check the CRL, not the index: the identity is still accepted everywhere.",
    "Re-sign the CRL (armored pki crl) and restart the cloud."};
const RuleInfo kCrlExpired{"fleet-crl-expired", Severity::kHigh, "The CRL is past its nextUpdate",
                           "Peers that check revocation refuse every connection once the CRL is stale.",
                           "Re-sign it (armored pki crl), weekly from cron, and restart the cloud."};
const RuleInfo kCrlExpiring{"fleet-crl-expiring", Severity::kMedium, "The CRL reaches its nextUpdate soon",
                            "When it does, peers that check revocation refuse every connection.",
                            "Re-sign it (armored pki crl) and schedule it weekly."};
const RuleInfo kCrlUnusable{"fleet-crl-unusable", Severity::kHigh, "crl.pem is missing, unreadable or forged",
                            "Without a valid CRL no revocation takes effect and strict peers refuse everything.",
                            "Re-sign it with armored pki crl and check who changed the file."};
const RuleInfo kNeverConnected{
    "fleet-never-connected", Severity::kLow, "An identity never connected",
    "A certificate that is valid but unused is a credential nobody watches: a device never installed, "
    "or one whose key was copied elsewhere before it was.",
    "Confirm the device exists and is deployed; otherwise revoke the identity (armored pki revoke)."};

const RuleInfo kReadingsMissing{
    "fleet-readings-missing", Severity::kHigh, "Readings a device sent never reached the database",
    "A device numbers its readings; the cloud stored later numbers but not these. They were lost before a "
    "gateway accepted them, lost with damaged gateway storage, or are still on their way from a gateway "
    "that has not delivered yet.",
    "Check the gateways' spool backlog and logs (quarantined damage names the file); a device that keeps "
    "losing readings may be out of radio range or overflowing its queue. armored report gaps lists them all."};

std::string iso(SysSeconds t) {
  std::time_t secs = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string short_hex(const std::string& h) { return h.size() > 16 ? h.substr(0, 16) + "…" : h; }

Location at(const FleetCert& c) { return Location{c.path, 0, 0, std::nullopt, {}}; }

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Groups leaves (and CAs for keys) by a fingerprint; reports groups that span identities.
void shared(const FleetInventory& inv, std::vector<Finding>& out) {
  std::map<std::string, std::vector<const FleetCert*>> by_cert, by_key;
  for (const auto& c : inv.leaves) by_cert[c.facts.fingerprint].push_back(&c);
  for (const auto* list : {&inv.cas, &inv.leaves})
    for (const auto& c : *list)
      if (!c.facts.spki_sha256.empty()) by_key[c.facts.spki_sha256].push_back(&c);
  for (const auto& [fp, certs] : by_cert) {
    if (certs.size() < 2) continue;
    std::vector<std::string> files;
    for (const auto* c : certs) files.push_back(c->path);
    out.push_back(make_finding(kSharedCert, at(*certs.front()),
                               "SHA-256 " + short_hex(fp) + " (serial " + certs.front()->facts.serial + ") in " +
                                   join(files),
                               std::to_string(certs.size()) + " identities share one certificate"));
  }
  for (const auto& [spki, certs] : by_key) {
    std::set<std::string> fingerprints;
    for (const auto* c : certs) fingerprints.insert(c->facts.fingerprint);
    if (fingerprints.size() < 2) continue;  // one certificate copied: reported above
    std::vector<std::string> files;
    for (const auto* c : certs) files.push_back(c->path + " (serial " + c->facts.serial + ")");
    out.push_back(make_finding(kSharedKey, at(*certs.front()), "public key SHA-256 " + short_hex(spki) + " in " + join(files),
                               std::to_string(fingerprints.size()) + " certificates share one key"));
  }
}

void per_certificate(const FleetCert& c, const FleetCheckOptions& o, std::vector<Finding>& out) {
  const auto& f = c.facts;
  const bool ca = c.role == "ca";
  if (!ca && !c.revoked_at) {
    if (f.not_after < o.now) {
      out.push_back(make_finding(kCertExpired, at(c), "notAfter " + iso(f.not_after), c.identity + " expired"));
    } else if (f.not_after < o.now + days(o.expiry_days)) {
      auto left = std::chrono::duration_cast<days>(f.not_after - o.now).count();
      out.push_back(make_finding(kCertExpiring, at(c),
                                 "notAfter " + iso(f.not_after) + " (" + std::to_string(left) + " days left)",
                                 c.identity + " expires within " + std::to_string(o.expiry_days) + " days"));
    }
  }
  if (ca) {
    if (f.not_after < o.now) {
      out.push_back(make_finding(kCaExpired, at(c), "notAfter " + iso(f.not_after), c.identity + " expired"));
    } else if (f.not_after < o.now + days(o.expiry_days)) {
      out.push_back(make_finding(kCaExpiring, at(c), "notAfter " + iso(f.not_after),
                                 c.identity + " expires within " + std::to_string(o.expiry_days) + " days"));
    }
  }
  const bool rsa_like = f.key_type == "RSA" || f.key_type == "RSA-PSS" || f.key_type == "DSA";
  const bool known_curve = f.curve == "prime256v1" || f.curve == "secp384r1" || f.curve == "secp521r1";
  const std::string key = f.key_type + (f.curve.empty() ? "" : " " + f.curve) + " " + std::to_string(f.key_bits) + " bits";
  if ((rsa_like && f.key_bits < 2048) || (f.key_type == "EC" && (f.key_bits < 256 || !known_curve))) {
    out.push_back(make_finding(kWeakKey, at(c), key, c.identity + " has a weak key"));
  } else if (!(f.key_type == "EC" && f.curve == "prime256v1")) {
    out.push_back(make_finding(kNotP256, at(c), key, c.identity + " does not use P-256"));
  }
  if (f.weak_signature) out.push_back(make_finding(kWeakSig, at(c), f.signature, c.identity + " signed with " + f.signature));
  if (!ca && c.role != "cloud" && !f.uri_identity.empty() && f.uri_identity != c.identity) {
    out.push_back(make_finding(kIdentityMismatch, at(c), "subjectAltName names " + f.uri_identity,
                               c.path + " holds the certificate of " + f.uri_identity));
  }
  if (c.indexed && !c.index_serial.empty() && c.index_serial != f.serial) {
    out.push_back(make_finding(kIndexMismatch, at(c), "file serial " + f.serial + ", pki.json serial " + c.index_serial,
                               c.identity + "'s certificate is not the one the PKI issued"));
  }
}

void crl_checks(const FleetInventory& inv, const FleetCheckOptions& o, std::vector<Finding>& out) {
  Location where{"crl.pem", 0, 0, std::nullopt, {}};
  if (!inv.crl) {
    out.push_back(make_finding(kCrlUnusable, where, inv.crl_problem, "crl.pem cannot be used"));
    return;
  }
  if (inv.crl->next_update && *inv.crl->next_update < o.now) {
    out.push_back(make_finding(kCrlExpired, where, "nextUpdate " + iso(*inv.crl->next_update), "the CRL is stale"));
  } else if (inv.crl->next_update && *inv.crl->next_update < o.now + days(o.crl_warning_days)) {
    out.push_back(make_finding(kCrlExpiring, where, "nextUpdate " + iso(*inv.crl->next_update),
                               "the CRL goes stale within " + std::to_string(o.crl_warning_days) + " days"));
  }
  for (const auto& c : inv.leaves) {
    if (c.revoked_at && !inv.crl->revoked.count(c.index_serial.empty() ? c.facts.serial : c.index_serial)) {
      out.push_back(make_finding(kRevokedNotInCrl, at(c),
                                 "revoked_at " + iso(*c.revoked_at) + ", CRL number " + std::to_string(inv.crl->number),
                                 c.identity + " is revoked in pki.json only"));
    }
  }
}

// When was this certificate revoked, by the index or the CRL (the earlier)?
std::optional<SysSeconds> revocation(const FleetCert& c, const FleetInventory& inv) {
  std::optional<SysSeconds> when = c.revoked_at;
  if (inv.crl) {
    for (const std::string* serial : {&c.facts.serial, &c.index_serial}) {
      auto it = inv.crl->revoked.find(*serial);
      if (it != inv.crl->revoked.end() && (!when || it->second < *when)) when = it->second;
    }
  }
  return when;
}

void connection_checks(const FleetInventory& inv, const ConnectionFacts& conns, const FleetCheckOptions& o,
                       std::vector<Finding>& out) {
  std::map<std::string, std::vector<const Connection*>> by_identity;
  for (const auto& c : conns.connections) by_identity[c.identity].push_back(&c);
  for (const auto& c : inv.leaves) {
    if (c.role == "cloud" || !c.indexed) continue;
    auto it = by_identity.find(c.identity);
    auto revoked = revocation(c, inv);
    if (revoked && it != by_identity.end()) {
      std::vector<const Connection*> after;
      for (const auto* x : it->second) {
        // An event naming another serial was another certificate of this ID.
        if (x->at >= *revoked &&
            (x->serial.empty() || x->serial == c.facts.serial || x->serial == c.index_serial)) {
          after.push_back(x);
        }
      }
      if (!after.empty()) {
        const Connection* last = after.front();
        for (const auto* x : after) if (x->at > last->at) last = x;
        out.push_back(make_finding(
            kRevokedConnected, at(c),
            "revoked " + iso(*revoked) + " (serial " + c.facts.serial + "); connected " + std::to_string(after.size()) +
                " time(s) after, last " + iso(last->at) + (last->from.empty() ? "" : " from " + last->from),
            c.identity + " connected after its revocation"));
      }
    }
    const bool live = !revoked && c.facts.not_after >= o.now;
    if (live && it == by_identity.end() && !conns.seen.count(c.identity)) {
      out.push_back(make_finding(kNeverConnected, at(c), "no connection in " + conns.source,
                                 c.identity + " (" + c.role + ") never connected"));
    }
  }
  for (const auto& g : conns.gaps) {
    const std::uint64_t n = g.last_missing - g.first_missing + 1;
    Location where{"device/" + g.device + ".crt", 0, 0, std::nullopt, {}};
    out.push_back(make_finding(
        kReadingsMissing, where,
        "epoch " + std::to_string(g.epoch) + " seq " + std::to_string(g.first_missing) +
            (n > 1 ? ".." + std::to_string(g.last_missing) : "") + ", missing since " + iso(g.since),
        g.device + ": " + std::to_string(n) + " reading" + (n > 1 ? "s" : "") + " never stored"));
  }
}

}  // namespace

const std::vector<RuleInfo>& fleet_rules() {
  static const std::vector<RuleInfo> kRules = {
      kSharedCert, kSharedKey,   kIdentityMismatch, kIndexMismatch,   kCaExpired,   kCaExpiring,
      kCertExpired, kCertExpiring, kWeakKey,         kNotP256,         kWeakSig,     kRevokedConnected,
      kRevokedNotInCrl, kCrlExpired, kCrlExpiring,  kCrlUnusable,     kNeverConnected, kReadingsMissing};
  return kRules;
}

std::vector<Finding> check_fleet(const FleetInventory& inventory, const ConnectionFacts* connections,
                                 const FleetCheckOptions& options) {
  std::vector<Finding> out;
  shared(inventory, out);
  for (const auto* list : {&inventory.cas, &inventory.leaves})
    for (const auto& c : *list) per_certificate(c, options, out);
  crl_checks(inventory, options, out);
  if (connections) connection_checks(inventory, *connections, options, out);
  return out;
}

std::string event_field(std::string_view detail, std::string_view key) {
  std::size_t pos = 0;
  while (pos < detail.size()) {
    std::size_t end = detail.find(' ', pos);
    if (end == std::string_view::npos) end = detail.size();
    std::string_view token = detail.substr(pos, end - pos);
    if (token.size() > key.size() && token.substr(0, key.size()) == key && token[key.size()] == '=') {
      return std::string(token.substr(key.size() + 1));
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace armored::audit
