#pragma once
// The bounded binary reader of `audit secrets`, without I/O: the caller feeds
// a file in chunks and receives printable strings as `strings` finds them
// (ASCII runs and UTF-16LE runs of at least kMinLength characters) with their
// byte offsets, and DER private keys recognised by their ASN.1 shape. Memory
// use is constant: strings longer than kMaxLength are cut into pieces.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace armored::audit {

struct ExtractedString {
  std::uint64_t offset = 0;  // byte offset of the first character in the file
  std::string text;
  bool utf16 = false;
};

class StringsExtractor {
 public:
  static constexpr std::size_t kMinLength = 4;
  static constexpr std::size_t kMaxLength = 1024;

  // Feeds the next chunk of the file; completed strings are appended to out.
  void feed(ByteSpan chunk, std::vector<ExtractedString>& out);
  // Flushes strings still open at end of file.
  void finish(std::vector<ExtractedString>& out);
  std::uint64_t bytes_seen() const { return offset_; }

 private:
  struct Run {
    std::uint64_t start = 0;
    std::string text;
  };
  struct Utf16Run {
    Run run;
    int pending = -1;  // low byte waiting for its zero high byte
  };
  void end_run(Run& run, bool utf16, std::vector<ExtractedString>& out);
  void step_utf16(Utf16Run& s, std::uint8_t b, bool low_byte, std::vector<ExtractedString>& out);

  std::uint64_t offset_ = 0;
  Run ascii_;
  Utf16Run utf16_[2];  // runs starting at even and odd offsets
};

// Kinds of DER private key this reader recognises.
enum class DerKeyKind : std::uint8_t { kPkcs8, kEncryptedPkcs8, kRsaPkcs1, kEcSec1 };
std::string_view der_key_kind_name(DerKeyKind k);

// Checks whether a DER private key starts at data[0]. Needs at most
// kDerLookahead bytes; returns nullopt when the ASN.1 shape does not match.
// `out_len`, when given, receives the key's declared total DER length.
std::optional<DerKeyKind> der_private_key_at(ByteSpan data, std::size_t* out_len = nullptr);
inline constexpr std::size_t kDerLookahead = 64;

struct DerKeyMatch {
  std::uint64_t offset = 0;
  DerKeyKind kind = DerKeyKind::kPkcs8;
};

// Scans a file chunk by chunk for DER private keys, including keys that
// straddle chunk boundaries. Constant memory.
class DerKeyFinder {
 public:
  void feed(ByteSpan chunk, std::vector<DerKeyMatch>& out);
  void finish(std::vector<DerKeyMatch>& out);

 private:
  void scan(bool final, std::vector<DerKeyMatch>& out);
  Bytes window_;              // unscanned tail plus the new chunk
  std::uint64_t window_start_ = 0;
  std::uint64_t skip_until_ = 0;  // inside a key already reported (PKCS#8 wraps SEC1)
};

}  // namespace armored::audit
