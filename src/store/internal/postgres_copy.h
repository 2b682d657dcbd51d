#pragma once
// Encoder for PostgreSQL's binary COPY format (internal to the PostgreSQL
// backend): a fixed header, then per row a field count and length-prefixed
// big-endian field values, then a -1 trailer. No escaping, no text parsing
// on the server: the cheapest way to move a batch of rows.

#include <cstdint>
#include <string_view>

#include "common/bytes.h"

namespace armored::store::pg {

class CopyBinaryWriter {
 public:
  CopyBinaryWriter() { reset(); }
  // Drops all rows, keeping the allocation.
  void reset();
  void begin_row(std::uint16_t fields);
  void int2(std::int16_t v);
  void int8(std::int64_t v);
  void text(std::string_view s);
  void bytea(ByteSpan b);
  // The complete COPY data stream (header, rows, trailer); appends the
  // trailer on the first call. Valid until reset().
  ByteSpan finished();
  std::size_t rows() const { return rows_; }

 private:
  void be(std::uint64_t v, int bytes);
  Bytes buf_;
  std::size_t rows_ = 0;
  bool finished_ = false;
};

}  // namespace armored::store::pg
