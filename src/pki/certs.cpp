#include "pki/certs.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

namespace armored::pki {

namespace {

Expected<ossl::NamePtr> common_name(const std::string& cn) {
  ossl::NamePtr name(X509_NAME_new());
  if (!name || X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                          -1, 0) != 1)
    return fail(ossl::error_text("cannot build name " + cn));
  return name;
}

// Adds one extension written in OpenSSL's configuration syntax. Every value
// passed here is built from validated parts (IDs, host names, IP literals),
// so it cannot smuggle in another field.
bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ossl::ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Puts `key` into the certificate as SubjectPublicKeyInfo (id-ecPublicKey,
// prime256v1, uncompressed point). X509_set_pubkey produces the same DER but
// builds an OpenSSL 3 encoder per call, which costs 20-40 times more than
// the rest of a leaf; fleet runs issue thousands. The in-memory certificate
// then has no decoded key cached: callers sign and encode it, nothing more.
bool set_p256_public_key(X509* cert, EVP_PKEY* key) {
  unsigned char point[65];
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                      &len) != 1 ||
      len != sizeof point)
    return false;
  auto* owned = static_cast<unsigned char*>(OPENSSL_memdup(point, len));
  if (owned == nullptr) return false;
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                             V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), owned,
                             static_cast<int>(len)) != 1) {
    OPENSSL_free(owned);
    return false;
  }
  return true;
}

// Fields common to every certificate: v3, serial, names, validity, key.
Expected<ossl::X509Ptr> start_cert(EVP_PKEY* key, X509_NAME* subject, X509_NAME* issuer,
                                   const Validity& v) {
  auto serial = random_serial();
  if (!serial) return unexpected(serial.error());
  auto nb = ossl::to_asn1_time(v.not_before);
  auto na = ossl::to_asn1_time(v.not_after);
  if (!nb || !na) return fail("cannot encode validity");
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial->get()) != 1 ||
      X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1 ||
      X509_set1_notBefore(cert.get(), nb->get()) != 1 ||
      X509_set1_notAfter(cert.get(), na->get()) != 1 || !set_p256_public_key(cert.get(), key))
    return fail(ossl::error_text("cannot fill certificate"));
  return cert;
}

Expected<ossl::X509Ptr> finish(ossl::X509Ptr cert, EVP_PKEY* signer) {
  if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0)
    return fail(ossl::error_text("cannot sign certificate"));
  return cert;
}

Expected<ossl::X509Ptr> make_ca(EVP_PKEY* key, const std::string& cn, const Validity& v,
                                X509* issuer, EVP_PKEY* issuer_key, const char* constraints) {
  auto subject = common_name(cn);
  if (!subject) return unexpected(subject.error());
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject->get();
  auto cert = start_cert(key, subject->get(), issuer_name, v);
  if (!cert) return cert;
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert->get(), cert->get(), nullptr, nullptr, 0);
  if (!add_ext(cert->get(), &ctx, NID_basic_constraints, constraints) ||
      !add_ext(cert->get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(cert->get(), &ctx, NID_subject_key_identifier, "hash") ||
      (issuer && !add_ext(cert->get(), &ctx, NID_authority_key_identifier, "keyid:always")))
    return fail(ossl::error_text("cannot add CA extensions"));
  return finish(std::move(*cert), issuer_key ? issuer_key : key);
}

}  // namespace

KeyGenerator::KeyGenerator() : ctx_(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)) {
  ready_ = ctx_ && EVP_PKEY_keygen_init(ctx_.get()) == 1 &&
           EVP_PKEY_CTX_set_group_name(ctx_.get(), "P-256") == 1;
}

Expected<ossl::PkeyPtr> KeyGenerator::generate() {
  EVP_PKEY* raw = nullptr;
  if (!ready_ || EVP_PKEY_generate(ctx_.get(), &raw) != 1)
    return fail(ossl::error_text("cannot generate P-256 key"));
  return ossl::PkeyPtr(raw);
}

Expected<ossl::AsnIntPtr> random_serial() {
  unsigned char bytes[16];
  ossl::BignumPtr bn;
  do {
    if (RAND_bytes(bytes, sizeof bytes) != 1) return fail(ossl::error_text("no randomness for serial"));
    bn.reset(BN_bin2bn(bytes, sizeof bytes, nullptr));  // unsigned: always positive
    if (!bn) return fail(ossl::error_text("cannot build serial"));
  } while (BN_is_zero(bn.get()));
  ossl::AsnIntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return fail(ossl::error_text("cannot encode serial"));
  return serial;
}

Expected<ossl::X509Ptr> make_root(EVP_PKEY* key, const std::string& name, const Validity& v) {
  return make_ca(key, name, v, nullptr, nullptr, "critical,CA:TRUE,pathlen:1");
}

Expected<ossl::X509Ptr> make_issuing(EVP_PKEY* key, const std::string& name, const Validity& v,
                                     X509* root, EVP_PKEY* root_key) {
  return make_ca(key, name, v, root, root_key, "critical,CA:TRUE,pathlen:0");
}

std::string identity_uri(Role role, std::string_view id) {
  return "urn:armored:" + std::string(role_name(role)) + ":" + std::string(id);
}

Expected<ossl::X509Ptr> make_leaf(EVP_PKEY* key, const IssueRequest& request, X509* issuer,
                                  EVP_PKEY* issuer_key) {
  // Subject CN=<id> only: the role is already in the EKU and the SAN, IDs
  // are unique across roles, and every byte here is sent in each full
  // handshake and kept in every TLS session ticket the cloud issues.
  auto subject = common_name(request.id);
  if (!subject) return unexpected(subject.error());
  auto cert = start_cert(key, subject->get(), X509_get_subject_name(issuer), request.validity);
  if (!cert) return cert;

  std::string san;
  if (request.role == Role::cloud) {
    for (const auto& d : request.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
    for (const auto& ip : request.ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  } else {
    san = "URI:" + identity_uri(request.role, request.id);
  }
  const char* eku = request.role == Role::cloud ? "serverAuth" : "clientAuth";

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert->get(), nullptr, nullptr, 0);
  if (!add_ext(cert->get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(cert->get(), &ctx, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
      !add_ext(cert->get(), &ctx, NID_ext_key_usage, eku) ||
      !add_ext(cert->get(), &ctx, NID_subject_alt_name, san) ||
      // No subjectKeyIdentifier on leaves (31 bytes): RFC 5280 4.2.1.2 needs
      // it only on CA certificates (SHOULD for end entities) and nothing
      // builds paths through a leaf; the CA/Browser Forum baseline now
      // advises against it in subscriber certificates. AKI stays (MUST).
      !add_ext(cert->get(), &ctx, NID_authority_key_identifier, "keyid:always"))
    return fail(ossl::error_text("cannot add extensions for " + request.id));
  return finish(std::move(*cert), issuer_key);
}

Expected<ossl::CrlPtr> make_crl(X509* issuer, EVP_PKEY* issuer_key,
                                const std::vector<const Identity*>& revoked, std::uint64_t number,
                                TimePoint now, TimePoint next_update) {
  auto last = ossl::to_asn1_time(now);
  auto next = ossl::to_asn1_time(next_update);
  if (!last || !next) return fail("cannot encode CRL times");
  ossl::CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last->get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next->get()) != 1)
    return fail(ossl::error_text("cannot fill CRL"));
  for (const Identity* id : revoked) {
    auto serial = ossl::serial_from_hex(id->serial);
    auto when = ossl::to_asn1_time(id->revoked_at.value_or(now));
    if (!serial || !when) return fail("cannot encode revocation of " + id->id);
    ossl::RevokedPtr entry(X509_REVOKED_new());
    if (!entry || X509_REVOKED_set_serialNumber(entry.get(), serial->get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), when->get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1)
      return fail(ossl::error_text("cannot add revocation of " + id->id));
    entry.release();  // owned by the CRL now
  }
  X509_CRL_sort(crl.get());
  ossl::AsnIntPtr crl_number(ASN1_INTEGER_new());
  if (!crl_number || ASN1_INTEGER_set_uint64(crl_number.get(), number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, 0) != 1)
    return fail(ossl::error_text("cannot add crlNumber"));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl.get(), 0);
  ossl::ExtPtr aki(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1)
    return fail(ossl::error_text("cannot add CRL authorityKeyIdentifier"));
  if (X509_CRL_sign(crl.get(), issuer_key, EVP_sha256()) <= 0)
    return fail(ossl::error_text("cannot sign CRL"));
  return crl;
}

PkiStatus validate_dns_name(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return unexpected(Error{ErrorCode::bad_input, "--dns '" + std::string(name) + "': " + why});
  };
  if (name.empty() || name.size() > 253) return bad("length must be 1..253");
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return bad("empty label or label ending in '-'");
      label = 0;
      continue;
    }
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') return bad("only letters, digits, '-' and '.' are allowed");
    if (c == '-' && label == 0) return bad("a label starts with '-'");
    if (++label > 63) return bad("a label is longer than 63 characters");
  }
  if (label == 0 || name.back() == '-') return bad("ends with '.' or '-'");
  return {};
}

PkiStatus validate_ip(std::string_view ip) {
  std::string s(ip);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1) return {};
  return unexpected(Error{ErrorCode::bad_input, "--ip '" + s + "' is not an IPv4 or IPv6 address"});
}

}  // namespace armored::pki
