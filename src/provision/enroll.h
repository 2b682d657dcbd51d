#pragma once
// Enrolment: gives every device of a PKI a random pseudonymous E3 key ID and
// creates the cloud's E3 key pair on first use. Idempotent: devices already
// enrolled keep their kid; revoked devices are not enrolled.

#include <filesystem>

#include "common/result.h"
#include "common/rng.h"
#include "provision/registry.h"

namespace armored::provision {

struct EnrolOptions {
  std::size_t kid_bytes = 3;  // 16.7 M pseudonyms; the size budget of the envelope
};

struct EnrolResult {
  std::size_t enrolled = 0;       // new this run
  std::size_t already = 0;        // kept from before
  bool created_cloud_key = false;
  Registry registry;
};

Expected<EnrolResult> enrol(const std::filesystem::path& pki_dir, const std::filesystem::path& e3_dir,
                            const EnrolOptions& options, Rng& rng);

// Loads cloud-e3.key / cloud-e3.pub PEM text (the caller parses it).
Expected<std::string> read_cloud_private_pem(const std::filesystem::path& e3_dir);
Expected<std::string> read_cloud_public_pem(const std::filesystem::path& e3_dir);

}  // namespace armored::provision
