#pragma once
// Shared code of the PKI tests: reading certificates back with the
// OpenSSL API, building PKIs with chosen validity, snapshots of directories.

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pki/pki.h"
#include "support/process.h"

namespace armored::pki::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Days = std::chrono::duration<long, std::ratio<86400>>;

inline TimePoint now() { return std::chrono::time_point_cast<std::chrono::seconds>(SystemClock().now()); }

inline Validity valid_between(TimePoint from, TimePoint to) { return {from, to}; }

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

inline X509Ptr read_cert(const fs::path& p) {
  std::string pem = armored::testing::slurp(p);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x);
}

inline mode_t file_mode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Every entry under `dir`: type, mode, size, mtime and content, so a test
// can prove a failed command changed nothing.
inline std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    std::string facts = std::to_string(st.st_mode) + "/" + std::to_string(st.st_size) + "/" +
                        std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (e.is_regular_file()) facts += "/" + armored::testing::slurp(e.path());
    out[fs::relative(e.path(), dir).string()] = facts;
  }
  return out;
}

// A PKI created through the library API with a chosen CA validity.
inline Authority make_pki(const fs::path& dir, Validity ca, const std::string& name = "Test Fleet CA") {
  InitOptions o;
  o.name = name;
  o.validity = ca;
  auto created = Authority::create(dir, o, now());
  if (!created) throw std::runtime_error(created.error().message);
  auto opened = Authority::open(dir, Authority::Access::read_write);
  if (!opened) throw std::runtime_error(opened.error().message);
  return std::move(*opened);
}

inline IssueRequest request(Role role, const std::string& id, Validity v) {
  IssueRequest r;
  r.role = role;
  r.id = id;
  r.validity = v;
  if (role == Role::cloud) {
    r.dns = {"localhost"};
    r.ips = {"127.0.0.1"};
  }
  return r;
}

}  // namespace armored::pki::test
