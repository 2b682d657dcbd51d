// Receipts as a gateway meets them (docs/broker.md, "Receipts"). Two views
// of each input: as a whole receipt (almost always refused at the
// signature), and as the payload of a receipt correctly signed by the
// cloud's key, so the payload parser behind the signature is reached too.
// Whatever opens must seal again to a receipt that opens to the same content.
#include <cstdlib>

#include "cbor/writer.h"
#include "receipt/receipt.h"

namespace {
using namespace armored;

const crypto::EcPrivateKey& cloud_key() {
  static const crypto::EcPrivateKey k = [] {
    Bytes scalar(crypto::kP256ScalarSize, 0);
    scalar.back() = 7;
    return *crypto::EcPrivateKey::from_scalar(scalar);
  }();
  return k;
}
const crypto::EcPublicKey& cloud_pub() {
  static const crypto::EcPublicKey p = *cloud_key().public_key();
  return p;
}

void round_trip_or_abort(const receipt::Receipt& r) {
  auto again = receipt::seal(r, cloud_key());
  if (!again) std::abort();
  auto reopened = receipt::open(*again, cloud_pub(), r.gateway);
  if (!reopened || reopened->batches != r.batches || reopened->issued_at_ms != r.issued_at_ms) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  if (auto r = receipt::open(in, cloud_pub(), "gw1")) round_trip_or_abort(*r);
  if (size > receipt::kMaxReceiptBytes - 128) return 0;
  // The input as a signed payload: {1: -7} protected, ES256 by the cloud.
  Bytes prot, tbs, msg;
  cbor::Writer(prot).map(1).uint(1).integer(-7);
  cbor::Writer(tbs).array(4).tstr("Signature1").bstr(prot).bstr({}).bstr(in);
  auto sig = cloud_key().sign_p1363(tbs);
  if (!sig) std::abort();
  cbor::Writer(msg).tag(18).array(4).bstr(prot).map(0).bstr(in).bstr(*sig);
  if (auto r = receipt::open(msg, cloud_pub(), "gw1")) round_trip_or_abort(*r);
  return 0;
}
