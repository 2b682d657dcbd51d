#pragma once
// The persisted ack cursor: a small file with two 512-byte slots, written
// alternately (generation parity picks the slot), each slot
//   "ACK1" generation:u64be acked_id:u64be crc32c:u32be
// A torn write can damage only the slot being written; the other slot still
// holds the previous cursor, so reading picks the valid slot with the
// highest generation. One pwrite + fdatasync per update, no rename.

#include <cstdint>
#include <filesystem>

#include "common/result.h"

namespace armored::spool {

class AckFile {
 public:
  AckFile() = default;
  ~AckFile();
  AckFile(const AckFile&) = delete;
  AckFile& operator=(const AckFile&) = delete;

  // Opens or creates `path`. `out_acked` receives the persisted cursor (0 for
  // a new file). Fails if the file exists but neither slot is valid.
  Status open(const std::filesystem::path& path, std::uint64_t& out_acked);
  // After a failed open(): true if the file was damaged rather than unreadable.
  bool corrupt() const { return corrupt_; }
  // Durably records `acked` (returns after fdatasync).
  Status write(std::uint64_t acked);

 private:
  int fd_ = -1;
  std::uint64_t generation_ = 0;
  std::filesystem::path path_;
  bool corrupt_ = false;
};

}  // namespace armored::spool
