// Authority::issue_fleet: thousands of device identities, each with its own
// key. Key generation and signing run on every core; files are written
// atomically but synced once per batch (pki/batch_writer.h), and the index is
// written last, so an interrupted run leaves no identity half-registered.

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "pki/internal/authority_state.h"
#include "pki/batch_writer.h"
#include "pki/certs.h"

namespace armored::pki {

namespace {

std::string fleet_id(const std::string& prefix, std::size_t n, std::size_t width) {
  std::string num = std::to_string(n);
  if (num.size() < width) num.insert(0, width - num.size(), '0');
  return prefix + "-" + num;
}

// What one worker does for one device: key, certificate, two files. The
// files are created under `write_mu`: creating entries in one directory from
// two threads only makes them spin on the directory's lock in the kernel,
// while key generation and signing (outside the lock) scale with cores.
Expected<Identity> provision_one(KeyGenerator& keys, const IssueRequest& request, X509* issuer,
                                 EVP_PKEY* issuer_key, const std::string& issuer_pem, const fs::path& dir,
                                 std::mutex& write_mu) {
  auto key = keys.generate();
  if (!key) return unexpected(key.error());
  auto cert = make_leaf(key->get(), request, issuer, issuer_key);
  if (!cert) return unexpected(cert.error());
  auto identity = identity_from_cert(cert->get(), request);
  auto cert_pem = ossl::cert_to_pem(cert->get());
  auto key_pem = ossl::key_to_pem(key->get());
  if (!identity || !cert_pem || !key_pem) return fail("cannot encode " + request.id);
  std::lock_guard lock(write_mu);
  auto st = write_file_atomic_unsynced(leaf_key_path(dir, request.role, request.id),
                                       as_bytes(*key_pem), 0600);
  ossl::wipe(*key_pem);
  if (!st) return unexpected(st.error());
  ARMORED_TRY(write_file_atomic_unsynced(leaf_cert_path(dir, request.role, request.id),
                                         as_bytes(*cert_pem), 0644));
  ARMORED_TRY(write_file_atomic_unsynced(leaf_fullchain_path(dir, request.role, request.id),
                                         as_bytes(*cert_pem + issuer_pem), 0644));
  return identity;
}

}  // namespace

PkiResult<std::vector<IssuedFiles>> Authority::issue_fleet(const FleetRequest& request,
                                                           TimePoint now,
                                                           const Progress& progress) {
  if (s_->lock_fd < 0) return pki_error(ErrorCode::busy, "the PKI was opened read-only");
  if (request.count == 0 || request.count > kMaxFleet)
    return pki_error(ErrorCode::bad_input, "--count must be between 1 and " + std::to_string(kMaxFleet) +
                                               ", not " + std::to_string(request.count));
  // Width 4 at least, so that wearable-0001 .. wearable-0999 sort as numbers do.
  std::size_t width = std::max<std::size_t>(4, std::to_string(request.count).size());
  std::vector<IssueRequest> requests(request.count);
  for (std::size_t i = 0; i < request.count; ++i) {
    requests[i].role = Role::device;
    requests[i].id = fleet_id(request.prefix, i + 1, width);
    requests[i].validity = request.validity;
  }
  if (auto ok = validate_id(request.prefix); !ok)
    return pki_error(ErrorCode::bad_input, "--prefix: " + ok.error().message);
  if (auto ok = validate_id(requests.back().id); !ok)
    return pki_error(ErrorCode::bad_input, "--prefix '" + request.prefix + "' gives IDs like '" +
                                               requests.back().id + "': " + ok.error().message);
  for (const auto& r : requests) {
    if (s_->index.find(r.id))
      return pki_error(ErrorCode::conflict, "identity " + r.id + " already exists; choose another --prefix");
  }
  ARMORED_TRY(s_->prepare_signing(now));
  ARMORED_TRY(s_->check_leaf_validity(request.validity));

  fs::path devices = role_dir(s_->dir, Role::device);
  if (auto st = make_dir(devices, 0700); !st) return pki_error(ErrorCode::io, st.error().message);
  // Warm the issuer's cached extension data before threads read it concurrently.
  X509_check_purpose(s_->issuing.get(), -1, 0);
  auto issuing_pem = ossl::cert_to_pem(s_->issuing.get());
  if (!issuing_pem) return pki_error(ErrorCode::crypto, issuing_pem.error().message);

  std::vector<std::optional<Identity>> done_ids(request.count);
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu, write_mu;
  std::string first_error;
  auto worker = [&] {
    KeyGenerator keys;
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= request.count || failed.load()) return;
      auto id = provision_one(keys, requests[i], s_->issuing.get(), s_->signing_key.get(), *issuing_pem,
                              s_->dir, write_mu);
      if (!id) {
        std::lock_guard lock(error_mu);
        if (!failed.exchange(true)) first_error = requests[i].id + ": " + id.error().message;
        return;
      }
      done_ids[i] = std::move(*id);
      done.fetch_add(1);
    }
  };
  unsigned n_threads = request.threads ? request.threads : std::max(1u, std::thread::hardware_concurrency());
  n_threads = static_cast<unsigned>(std::min<std::size_t>(n_threads, request.count));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < n_threads; ++t) pool.emplace_back(worker);
  // Report progress from this thread only, so the callback needs no locking.
  std::size_t reported = 0;
  while (true) {
    std::size_t d = done.load();
    bool finished = d == request.count || failed.load();
    if (progress && d != reported) progress(reported = d, request.count);
    if (finished) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : pool) t.join();
  if (failed.load()) return pki_error(ErrorCode::io, first_error);

  // Every key and certificate is on disk before the index names them.
  if (auto st = sync_file_system(devices); !st) return pki_error(ErrorCode::io, st.error().message);
  Index next_index = s_->index;
  std::vector<IssuedFiles> out;
  out.reserve(request.count);
  for (auto& id : done_ids) {
    out.push_back(s_->files_for(*id));
    next_index.add(std::move(*id));
  }
  ARMORED_TRY(s_->save_index(next_index));
  s_->index = std::move(next_index);
  return out;
}

}  // namespace armored::pki
