// armored_device_provision: the bytes a device needs, from what `armored pki`
// and `armored enroll` produced. Reads <e3>/registry.json (kid, cloud key
// id), <e3>/cloud-e3.pub (cloud key) and <pki>/device/<id>.key (identity
// key) and writes the provisioning record of include/armored_device.h.
//
//   armored_device_provision --pki DIR --e3 DIR --device ID --out FILE [--no-identity-scalar]

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "armored_device.h"
#include "common/file_io.h"
#include "common/hex.h"
#include "crypto/ec.h"
#include "provision/registry.h"

namespace {

int usage() {
  std::cerr << "usage: armored_device_provision --pki DIR --e3 DIR --device ID --out FILE [--no-identity-scalar]\n";
  return 2;
}

// The identity key's private scalar, 32 bytes big-endian.
bool identity_scalar(const std::string& pem, std::uint8_t out[32]) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIGNUM* d = nullptr;
  const bool ok = key && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 && BN_bn2binpad(d, out, 32) == 32;
  BN_clear_free(d);
  EVP_PKEY_free(key);
  BIO_free(bio);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pki, e3, device, out_path;
  bool with_scalar = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& v) {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    if (a == "--pki" && value(pki)) continue;
    if (a == "--e3" && value(e3)) continue;
    if (a == "--device" && value(device)) continue;
    if (a == "--out" && value(out_path)) continue;
    if (a == "--no-identity-scalar") { with_scalar = false; continue; }
    return usage();
  }
  if (pki.empty() || e3.empty() || device.empty() || out_path.empty()) return usage();
  auto reg = armored::provision::load_registry(e3);
  if (!reg) { std::cerr << reg.error().message << "\n"; return 2; }
  const auto* enrolment = reg->find_device(device);
  if (!enrolment) { std::cerr << device << " is not enrolled in " << e3 << "/registry.json\n"; return 2; }
  auto pub_pem = armored::read_text_file(armored::provision::cloud_public_key_path(e3), 64 * 1024);
  if (!pub_pem) { std::cerr << pub_pem.error().message << "\n"; return 2; }
  auto cloud = armored::crypto::EcPublicKey::from_pem(*pub_pem);
  if (!cloud) { std::cerr << "cloud-e3.pub is not a P-256 public key\n"; return 2; }
  std::uint8_t rec[ARMORED_PROVISIONING_MAX];
  std::size_t n = 0;
  rec[n++] = 'A';
  rec[n++] = 'P';
  rec[n++] = 1;
  rec[n++] = with_scalar ? 1 : 0;
  rec[n++] = static_cast<std::uint8_t>(enrolment->kid.size());
  std::memcpy(rec + n, enrolment->kid.data(), enrolment->kid.size());
  n += enrolment->kid.size();
  rec[n++] = static_cast<std::uint8_t>(reg->cloud_key_id.size());
  std::memcpy(rec + n, reg->cloud_key_id.data(), reg->cloud_key_id.size());
  n += reg->cloud_key_id.size();
  const auto point = cloud->point();
  std::memcpy(rec + n, point.data(), point.size());
  n += point.size();
  if (with_scalar) {
    auto pem = armored::read_text_file(std::string(pki) + "/device/" + device + ".key", 64 * 1024);
    if (!pem || !identity_scalar(*pem, rec + n)) {
      std::cerr << "cannot read the identity key " << pki << "/device/" << device << ".key\n";
      return 2;
    }
    n += 32;
  }
  armored_provisioning check;
  if (armored_provisioning_parse(rec, n, &check) != ARMORED_OK) { std::cerr << "internal: bad record\n"; return 1; }
  std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
  // The record may hold the identity key: owner-only, like the PEM it came from.
  std::error_code ec;
  std::filesystem::permissions(out_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
  f.write(reinterpret_cast<const char*>(rec), static_cast<std::streamsize>(n));
  f.close();
  std::memset(rec, 0, sizeof rec);
  if (!f) { std::cerr << "cannot write " << out_path << "\n"; return 1; }
  std::cout << "device " << device << ": kid " << armored::to_hex(enrolment->kid) << ", cloud key id "
            << armored::to_hex(reg->cloud_key_id) << ", " << n << " bytes -> " << out_path << "\n";
  return 0;
}
