// Fuzzes the bounded binary reader of `audit secrets`: the input is fed in
// chunks whose sizes come from the first byte, through the strings
// extractor and DER key finder, and every extracted string through the
// line rules as a binary string would be.

#include <cstddef>
#include <cstdint>

#include "audit/binary_strings.h"
#include "audit/secret_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace armored;
  using namespace armored::audit;
  if (size < 1) return 0;
  std::size_t chunk = 1 + data[0] % 97;
  ByteSpan input(data + 1, size - 1);
  StringsExtractor strings;
  DerKeyFinder der;
  SecretLineScanner scanner(TextKind::kBinaryString);
  std::vector<ExtractedString> found;
  std::vector<DerKeyMatch> keys;
  std::vector<SecretHit> hits;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    auto part = input.subspan(i, std::min(chunk, input.size() - i));
    strings.feed(part, found);
    der.feed(part, keys);
  }
  strings.finish(found);
  der.finish(keys);
  for (const auto& s : found) {
    if (s.text.size() > StringsExtractor::kMaxLength) __builtin_trap();
    scanner.feed(s.text, s.offset, hits);
  }
  // The same bytes as one text line exercise the code-kind rules.
  SecretLineScanner text(TextKind::kConfig);
  text.feed(as_string(input), 1, hits);
  return 0;
}
