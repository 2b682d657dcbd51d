// Arbitrary bytes as a server ticket-key file. Each input is parsed as is,
// and again with a valid SHA-256 trailer appended so mutations reach the
// field parser behind the checksum. What parses must encode back to the
// same bytes.
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "tls/ticket_key_file.h"

namespace {

void check(armored::ByteSpan file) {
  auto keys = armored::tls::decode_ticket_keys(file);
  if (!keys) return;
  if (keys->empty() || keys->size() > armored::tls::kMaxTicketKeys) std::abort();
  armored::Bytes again = armored::tls::encode_ticket_keys(*keys);
  if (!std::equal(again.begin(), again.end(), file.begin(), file.end())) std::abort();
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
