#include "e3/state_store.h"

#include "common/file_io.h"

namespace armored::e3 {

Status FileStateStore::save(ByteSpan state) { return write_file_atomic(path_, state, 0600); }

Expected<Bytes> FileStateStore::load() const { return read_file(path_, 64u << 20); }

}  // namespace armored::e3
