// Authority: create, open, issue one identity, revoke, list.
// Every operation checks all of its input before it writes the first file.

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/file_io.h"
#include "pki/internal/authority_state.h"
#include "pki/certs.h"

namespace armored::pki {

namespace {

constexpr std::size_t kMaxIndexBytes = 64u << 20;

Expected<ossl::X509Ptr> load_cert(const fs::path& path) {
  auto text = read_text_file(path, kMaxPemBytes);
  if (!text) return unexpected(text.error());
  return ossl::cert_from_pem(*text, path.string());
}

PkiStatus check_ca_time(X509* cert, const char* which, TimePoint now) {
  auto nb = ossl::from_asn1_time(X509_get0_notBefore(cert));
  auto na = ossl::from_asn1_time(X509_get0_notAfter(cert));
  if (!nb || !na) return pki_error(ErrorCode::ca_unusable, std::string(which) + " certificate has bad dates");
  if (now < *nb)
    return pki_error(ErrorCode::ca_unusable,
                     std::string(which) + " certificate is not valid before " + format_time(*nb));
  if (now > *na)
    return pki_error(ErrorCode::ca_unusable, std::string(which) + " certificate expired on " +
                                                 format_time(*na) + "; create a new PKI with init");
  return {};
}

PkiStatus validate_ca_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return pki_error(ErrorCode::bad_input, "--name must be 1..64 characters long");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return pki_error(ErrorCode::bad_input, "--name contains a control character");
  }
  return {};
}

// "/a/b/" and "b" both become an absolute path with a file name.
fs::path normal_dir(const fs::path& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p;
}

bool is_empty_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_empty(p, ec) && !ec;
}

struct CaMaterial {
  ossl::PkeyPtr root_key, issuing_key;
  ossl::X509Ptr root, issuing;
  ossl::CrlPtr crl;
};

Expected<CaMaterial> make_ca_material(const InitOptions& options, TimePoint now) {
  CaMaterial m;
  KeyGenerator keys;
  auto rk = keys.generate();
  auto ik = keys.generate();
  if (!rk || !ik) return fail((!rk ? rk.error() : ik.error()).message);
  m.root_key = std::move(*rk);
  m.issuing_key = std::move(*ik);
  auto root = make_root(m.root_key.get(), options.name, options.validity);
  if (!root) return unexpected(root.error());
  m.root = std::move(*root);
  auto issuing = make_issuing(m.issuing_key.get(), options.name + " Issuing CA", options.validity,
                              m.root.get(), m.root_key.get());
  if (!issuing) return unexpected(issuing.error());
  m.issuing = std::move(*issuing);
  auto crl = make_crl(m.issuing.get(), m.issuing_key.get(), {}, 1, now, now + kCrlValidity);
  if (!crl) return unexpected(crl.error());
  m.crl = std::move(*crl);
  return m;
}

// Writes a complete PKI into the empty directory `stage`.
Status write_new_pki(const fs::path& stage, CaMaterial& m, const std::string& name) {
  auto root_pem = ossl::cert_to_pem(m.root.get());
  auto issuing_pem = ossl::cert_to_pem(m.issuing.get());
  auto crl_pem = ossl::crl_to_pem(m.crl.get());
  if (!root_pem || !issuing_pem || !crl_pem) return fail("cannot encode the CA certificates");
  ARMORED_TRY(make_dir(stage / kPrivateDir, 0700));
  for (Role r : {Role::cloud, Role::gateway, Role::device}) ARMORED_TRY(make_dir(role_dir(stage, r), 0700));
  for (auto [key, file] : {std::pair{m.root_key.get(), kRootKeyFile},
                           std::pair{m.issuing_key.get(), kIssuingKeyFile}}) {
    auto pem = ossl::key_to_pem(key);
    if (!pem) return unexpected(pem.error());
    auto st = write_file_exclusive(stage / kPrivateDir / file, as_bytes(*pem), 0600);
    ossl::wipe(*pem);
    ARMORED_TRY(st);
  }
  ARMORED_TRY(write_file_exclusive(stage / kRootCertFile, as_bytes(*root_pem), 0644));
  ARMORED_TRY(write_file_exclusive(stage / kIssuingCertFile, as_bytes(*issuing_pem), 0644));
  ARMORED_TRY(write_file_exclusive(stage / kChainFile, as_bytes(*issuing_pem + *root_pem), 0644));
  ARMORED_TRY(write_file_exclusive(stage / kCrlFile, as_bytes(*crl_pem), 0644));
  Index index;
  index.name = name;
  index.crl_number = 1;
  ARMORED_TRY(write_file_exclusive(stage / kIndexFile, as_bytes(index.to_json()), 0644));
  if (::chmod(stage.c_str(), 0755) != 0) return fail("cannot set mode on " + stage.string());
  return {};
}

}  // namespace

Authority::State::~State() {
  if (lock_fd >= 0) ::close(lock_fd);  // closing releases the flock
}

PkiStatus Authority::State::prepare_signing(TimePoint now) {
  if (!signing_key) {
    fs::path path = dir / kPrivateDir / kIssuingKeyFile;
    auto bytes = read_file(path, kMaxPemBytes);
    if (!bytes) return pki_error(ErrorCode::ca_unusable, "issuing CA key: " + bytes.error().message);
    auto key = ossl::key_from_pem(as_string(*bytes), path.string());
    OPENSSL_cleanse(bytes->data(), bytes->size());
    if (!key) return pki_error(ErrorCode::ca_unusable, key.error().message);
    if (X509_check_private_key(issuing.get(), key->get()) != 1) {
      ossl::clear_errors();
      return pki_error(ErrorCode::ca_unusable, path.string() + " does not match " + kIssuingCertFile);
    }
    signing_key = std::move(*key);
  }
  ARMORED_TRY(check_ca_time(root.get(), "root CA", now));
  ARMORED_TRY(check_ca_time(issuing.get(), "issuing CA", now));
  return {};
}

Status make_dir(const fs::path& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST)
    return fail("cannot create " + p.string() + ": " + std::strerror(errno));
  if (::chmod(p.c_str(), mode) != 0) return fail("cannot set mode on " + p.string());
  return {};
}

PkiStatus Authority::State::check_leaf_validity(const Validity& v) const {
  if (!(v.not_before < v.not_after))
    return pki_error(ErrorCode::bad_input, "the validity period ends before it starts");
  auto ca_end = ossl::from_asn1_time(X509_get0_notAfter(issuing.get()));
  if (!ca_end) return pki_error(ErrorCode::ca_unusable, "issuing CA certificate has bad dates");
  if (v.not_after > *ca_end)
    return pki_error(ErrorCode::bad_input, "the certificate would end on " + format_time(v.not_after) +
                                               ", after the issuing CA (" + format_time(*ca_end) +
                                               "); ask for fewer days");
  return {};
}

PkiStatus Authority::State::save_index(const Index& next) const {
  auto st = write_file_atomic(dir / kIndexFile, as_bytes(next.to_json()), 0644);
  if (!st) return pki_error(ErrorCode::io, st.error().message);
  return {};
}

IssuedFiles Authority::State::files_for(const Identity& identity) const {
  return {identity, leaf_cert_path(dir, identity.role, identity.id),
          leaf_key_path(dir, identity.role, identity.id), dir / kChainFile,
          leaf_fullchain_path(dir, identity.role, identity.id)};
}

Expected<Identity> identity_from_cert(X509* cert, const IssueRequest& request) {
  auto nb = ossl::from_asn1_time(X509_get0_notBefore(cert));
  auto na = ossl::from_asn1_time(X509_get0_notAfter(cert));
  if (!nb || !na) return fail("cannot read back certificate dates");
  Identity id;
  id.id = request.id;
  id.role = request.role;
  id.serial = ossl::serial_hex(X509_get0_serialNumber(cert));
  id.not_before = *nb;
  id.not_after = *na;
  id.dns = request.dns;
  id.ips = request.ips;
  return id;
}

Authority::Authority(std::unique_ptr<State> state) : s_(std::move(state)) {}
Authority::Authority(Authority&&) noexcept = default;
Authority& Authority::operator=(Authority&&) noexcept = default;
Authority::~Authority() = default;

const fs::path& Authority::dir() const { return s_->dir; }
const std::string& Authority::name() const { return s_->index.name; }

fs::path Authority::root_cert_path(const fs::path& dir) { return dir / kRootCertFile; }
fs::path Authority::issuing_cert_path(const fs::path& dir) { return dir / kIssuingCertFile; }
fs::path Authority::chain_path(const fs::path& dir) { return dir / kChainFile; }
fs::path Authority::crl_path(const fs::path& dir) { return dir / kCrlFile; }
fs::path Authority::index_path(const fs::path& dir) { return dir / kIndexFile; }

PkiResult<Authority> Authority::create(const fs::path& dir_in, const InitOptions& options,
                                       TimePoint now) {
  ARMORED_TRY(validate_ca_name(options.name));
  if (!(options.validity.not_before < options.validity.not_after))
    return pki_error(ErrorCode::bad_input, "the CA validity period ends before it starts");
  fs::path dir = normal_dir(dir_in);
  std::error_code ec;
  if (fs::exists(dir / kIndexFile, ec))
    return pki_error(ErrorCode::conflict, dir_in.string() + " already holds a PKI; refusing to overwrite it");
  if (fs::exists(fs::symlink_status(dir, ec)) && !is_empty_dir(dir))
    return pki_error(ErrorCode::conflict,
                     dir_in.string() + " already exists and is not an empty directory; refusing to overwrite it");

  auto material = make_ca_material(options, now);
  if (!material) return pki_error(ErrorCode::crypto, material.error().message);

  // Build the whole PKI in a hidden sibling and rename it into place, so a
  // failure leaves nothing behind and no reader sees half a PKI.
  fs::create_directories(dir.parent_path(), ec);
  std::string stage_name = (dir.parent_path() / ("." + dir.filename().string() + ".init-XXXXXX")).string();
  if (::mkdtemp(stage_name.data()) == nullptr)
    return pki_error(ErrorCode::io, "cannot create a directory next to " + dir.string() + ": " +
                                        std::strerror(errno));
  fs::path stage = stage_name;
  auto written = write_new_pki(stage, *material, options.name);
  if (written && ::rename(stage.c_str(), dir.c_str()) != 0) {
    bool taken = errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR;
    std::string msg = dir_in.string() + (taken ? " appeared while init was running; refusing to overwrite it"
                                                 : std::string(": cannot create: ") + std::strerror(errno));
    fs::remove_all(stage, ec);
    return pki_error(taken ? ErrorCode::conflict : ErrorCode::io, msg);
  }
  if (!written) {
    fs::remove_all(stage, ec);
    return pki_error(ErrorCode::io, written.error().message);
  }
  int pfd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd >= 0) {
    ::fsync(pfd);
    ::close(pfd);
  }
  return open(dir, Access::read_only);
}

PkiResult<Authority> Authority::open(const fs::path& dir_in, Access access) {
  fs::path dir = normal_dir(dir_in);
  std::error_code ec;
  if (!fs::exists(dir / kIndexFile, ec))
    return pki_error(ErrorCode::not_found, "no PKI in " + dir_in.string() +
                                               " (create one with: armored pki init --dir " +
                                               dir_in.string() + ")");
  auto state = std::make_unique<State>();
  state->dir = dir;
  if (access == Access::read_write) {
    state->lock_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (state->lock_fd < 0 || ::flock(state->lock_fd, LOCK_EX | LOCK_NB) != 0)
      return pki_error(ErrorCode::busy, "another armored pki command is changing " + dir_in.string());
  }
  auto text = read_text_file(dir / kIndexFile, kMaxIndexBytes);
  if (!text) return pki_error(ErrorCode::ca_unusable, text.error().message);
  auto index = Index::from_json(*text);
  if (!index)
    return pki_error(ErrorCode::ca_unusable, (dir / kIndexFile).string() + " is damaged: " + index.error().message);
  state->index = std::move(*index);
  auto root = load_cert(dir / kRootCertFile);
  if (!root) return pki_error(ErrorCode::ca_unusable, "root CA certificate: " + root.error().message);
  state->root = std::move(*root);
  auto issuing = load_cert(dir / kIssuingCertFile);
  if (!issuing) return pki_error(ErrorCode::ca_unusable, "issuing CA certificate: " + issuing.error().message);
  state->issuing = std::move(*issuing);
  return Authority(std::move(state));
}

namespace {

PkiStatus validate_request(const IssueRequest& r) {
  ARMORED_TRY(validate_id(r.id));
  if (r.role != Role::cloud && (!r.dns.empty() || !r.ips.empty()))
    return pki_error(ErrorCode::bad_input, "--dns and --ip are for cloud identities only; " +
                                               std::string(role_name(r.role)) +
                                               " identities are named by urn:armored URIs");
  if (r.role == Role::cloud && r.dns.empty() && r.ips.empty())
    return pki_error(ErrorCode::bad_input, "a cloud identity needs at least one --dns or --ip");
  for (const auto& d : r.dns) ARMORED_TRY(validate_dns_name(d));
  for (const auto& ip : r.ips) ARMORED_TRY(validate_ip(ip));
  return {};
}

}  // namespace

PkiResult<IssuedFiles> Authority::issue(const IssueRequest& request, TimePoint now) {
  if (s_->lock_fd < 0) return pki_error(ErrorCode::busy, "the PKI was opened read-only");
  ARMORED_TRY(validate_request(request));
  if (const Identity* old = s_->index.find(request.id))
    return pki_error(ErrorCode::conflict, "identity " + request.id + " already exists (" +
                                              std::string(role_name(old->role)) + ", serial " +
                                              old->serial + "); choose another ID");
  ARMORED_TRY(s_->prepare_signing(now));
  ARMORED_TRY(s_->check_leaf_validity(request.validity));

  KeyGenerator keys;
  auto key = keys.generate();
  if (!key) return pki_error(ErrorCode::crypto, key.error().message);
  auto cert = make_leaf(key->get(), request, s_->issuing.get(), s_->signing_key.get());
  if (!cert) return pki_error(ErrorCode::crypto, cert.error().message);
  auto identity = identity_from_cert(cert->get(), request);
  auto cert_pem = ossl::cert_to_pem(cert->get());
  auto key_pem = ossl::key_to_pem(key->get());
  auto issuing_pem = ossl::cert_to_pem(s_->issuing.get());
  if (!identity || !cert_pem || !key_pem || !issuing_pem)
    return pki_error(ErrorCode::crypto, "cannot encode " + request.id);

  IssuedFiles files = s_->files_for(*identity);
  auto st = make_dir(role_dir(s_->dir, request.role), 0700);
  if (st) st = write_file_atomic(files.key, as_bytes(*key_pem), 0600);
  ossl::wipe(*key_pem);
  if (st) st = write_file_atomic(files.cert, as_bytes(*cert_pem), 0644);
  if (st) st = write_file_atomic(files.fullchain, as_bytes(*cert_pem + *issuing_pem), 0644);
  if (!st) return pki_error(ErrorCode::io, st.error().message);
  Index next = s_->index;
  next.add(*identity);
  ARMORED_TRY(s_->save_index(next));
  s_->index = std::move(next);
  return files;
}

PkiStatus Authority::State::publish_crl(Index next, TimePoint now) {
  next.crl_number += 1;
  std::vector<const Identity*> revoked;
  for (const auto& i : next.identities())
    if (i.revoked_at) revoked.push_back(&i);
  auto crl = make_crl(issuing.get(), signing_key.get(), revoked, next.crl_number, now, now + kCrlValidity);
  if (!crl) return pki_error(ErrorCode::crypto, crl.error().message);
  auto pem = ossl::crl_to_pem(crl->get());
  if (!pem) return pki_error(ErrorCode::crypto, pem.error().message);
  // The CRL first: if the index write then fails, the identity is revoked in
  // the CRL already and running the command again signs a fresh CRL.
  auto st = write_file_atomic(dir / kCrlFile, as_bytes(*pem), 0644);
  if (!st) return pki_error(ErrorCode::io, st.error().message);
  ARMORED_TRY(save_index(next));
  index = std::move(next);
  return {};
}

PkiStatus Authority::revoke(std::string_view id, TimePoint now) {
  if (s_->lock_fd < 0) return pki_error(ErrorCode::busy, "the PKI was opened read-only");
  ARMORED_TRY(validate_id(id));
  const Identity* found = s_->index.find(id);
  if (!found) return pki_error(ErrorCode::not_found, "no identity " + std::string(id) + " in " + s_->dir.string());
  if (found->revoked_at)
    return pki_error(ErrorCode::conflict, std::string(id) + " was already revoked on " + format_time(*found->revoked_at));
  ARMORED_TRY(s_->prepare_signing(now));
  Index next = s_->index;
  next.find(id)->revoked_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
  return s_->publish_crl(std::move(next), now);
}

PkiStatus Authority::refresh_crl(TimePoint now) {
  if (s_->lock_fd < 0) return pki_error(ErrorCode::busy, "the PKI was opened read-only");
  ARMORED_TRY(s_->prepare_signing(now));
  return s_->publish_crl(s_->index, now);
}

std::vector<ListEntry> Authority::list(TimePoint now) const {
  std::vector<ListEntry> out;
  out.reserve(s_->index.identities().size());
  for (const auto& i : s_->index.identities()) {
    ListEntry e{i};
    e.revoked = i.revoked_at.has_value();
    e.expired = i.not_after < now;
    e.expiring_soon = !e.expired && i.not_after < now + kExpiringSoon;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace armored::pki
