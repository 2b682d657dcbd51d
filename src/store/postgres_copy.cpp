#include "store/internal/postgres_copy.h"

namespace armored::store::pg {
namespace {
// "PGCOPY\n\377\r\n\0", flags (int32 0), header extension length (int32 0).
constexpr std::uint8_t kHeader[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n', 0,
                                    0, 0, 0, 0, 0, 0, 0, 0};
}  // namespace

void CopyBinaryWriter::reset() {
  buf_.assign(std::begin(kHeader), std::end(kHeader));
  rows_ = 0;
  finished_ = false;
}

void CopyBinaryWriter::be(std::uint64_t v, int bytes) {
  for (int s = (bytes - 1) * 8; s >= 0; s -= 8) buf_.push_back(static_cast<std::uint8_t>(v >> s));
}

void CopyBinaryWriter::begin_row(std::uint16_t fields) {
  be(fields, 2);
  ++rows_;
}

void CopyBinaryWriter::int2(std::int16_t v) {
  be(2, 4);
  be(static_cast<std::uint16_t>(v), 2);
}

void CopyBinaryWriter::int8(std::int64_t v) {
  be(8, 4);
  be(static_cast<std::uint64_t>(v), 8);
}

void CopyBinaryWriter::text(std::string_view s) {
  be(s.size(), 4);
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void CopyBinaryWriter::bytea(ByteSpan b) {
  be(b.size(), 4);
  buf_.insert(buf_.end(), b.begin(), b.end());
}

ByteSpan CopyBinaryWriter::finished() {
  if (!finished_) be(0xFFFF, 2);  // file trailer: field count -1
  finished_ = true;
  return buf_;
}

}  // namespace armored::store::pg
