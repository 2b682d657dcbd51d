// Parses arbitrary bytes as a gateway answer (what a device does with every
// datagram from its gateway) and checks the parser's claims: every entry is
// a valid answer header inside the datagram, and packing the entries again
// reproduces the datagram byte for byte.
#include <algorithm>
#include <cstdlib>

#include "link/internal/answer_header.h"
#include "link/link.h"

using namespace armored;
using namespace armored::link;
using armored::link::internal::answer_header_size;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteSpan d(data, size);
  std::array<Answer, kMaxAnswersPerDatagram> out{};
  AnswerStats st;
  auto r = parse_answers(d, out, &st);
  if (!r) {
    if ((r.error() == AnswerError::kNotAnswer) != (st.rejected == 0)) std::abort();
    return 0;
  }
  if (*r == 0 || *r > out.size() || st.entries != *r) std::abort();
  AnswerPacker p;
  for (std::size_t i = 0; i < *r; ++i) {
    const Answer& a = out[i];
    if (a.kind != kAckSpooled && a.kind != kAckRefused) std::abort();
    if (a.header_bytes.data() < data || a.header_bytes.data() + a.header_bytes.size() > data + size) std::abort();
    if (answer_header_size(a.header_bytes[0]) != a.header_bytes.size()) std::abort();
    if (!p.add(a.kind, a.header_bytes)) std::abort();  // what parses always fits again
  }
  ByteSpan again = p.take();
  if (again.size() != size || !std::equal(again.begin(), again.end(), d.begin())) {
    // A packed datagram with one entry is valid but re-packs in the single form.
    if (!(d[0] == kAckPacked && *r == 1 && again.size() + 1 == size)) std::abort();
  }
  return 0;
}
