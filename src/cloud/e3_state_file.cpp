#include "cloud/e3_state_file.h"

#include "common/file_io.h"

namespace armored::cloud {

Status E3StateFile::write(std::uint64_t generation, ByteSpan state) {
  std::lock_guard lk(mu_);
  if (generation <= on_disk_) {
    ++skipped_;
    return {};
  }
  ARMORED_TRY(write_file_atomic(path_, state, 0600));
  on_disk_ = generation;
  return {};
}

std::uint64_t E3StateFile::skipped() const {
  std::lock_guard lk(mu_);
  return skipped_;
}

}  // namespace armored::cloud
