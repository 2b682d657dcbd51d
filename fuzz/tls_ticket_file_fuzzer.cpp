// Arbitrary bytes as a client session-ticket file. Each input is parsed as
// is, and again with a valid SHA-256 trailer appended so mutations reach the
// field parser behind the checksum.
#include <openssl/sha.h>

#include <cstdint>
#include <cstdlib>

#include "tls/session_store.h"

namespace {

void check(armored::ByteSpan file) {
  auto r = armored::tls::parse_stored_session(file);
  if (r && r->der.empty()) std::abort();  // the parser promises a non-empty session
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(armored::ByteSpan(data, size));
  armored::Bytes sealed(data, data + size);
  sealed.resize(size + 32);
  SHA256(data, size, sealed.data() + size);
  check(sealed);
  return 0;
}
