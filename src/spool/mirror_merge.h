#pragma once
// Reconciling the two copies of a mirrored segment (sans-I/O): given the
// bytes of the primary and of the mirror, which ranges of each copy must be
// overwritten with the other's so that every record valid in either copy is
// valid in both. docs/spool.md, "Mirror", states the rules.
//
// Both copies are written with identical bytes at identical offsets, so a
// record lies at the same offset in each: the walk goes record by record,
// taking each from whichever copy holds it intact. Where neither does, the
// range is damaged in both and left as it is (quarantine decides); beyond the
// last record valid in either copy, nothing is taken from anywhere (a torn
// tail is the open path's to cut).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"

namespace armored::spool::format {

struct ByteRange {
  std::size_t from = 0, to = 0;  // [from, to)
  std::size_t size() const { return to - from; }
};

// Ranges of one copy to overwrite with the other copy's bytes at the same
// offsets (a range may run past the copy's end: the copy grows).
struct CopyRepair {
  std::vector<ByteRange> ranges;
  std::size_t bytes() const;
};

struct MirrorMerge {
  CopyRepair primary;  // take these from the mirror
  CopyRepair mirror;   // take these from the primary
  std::vector<ByteRange> damaged_in_both;  // no copy holds a valid record here
  std::size_t valid_end = 0;  // end of the last record valid in either copy
  bool headers_bad = false;   // neither copy has a valid header for first_id: nothing done
};

MirrorMerge merge_copies(ByteSpan primary, ByteSpan mirror, std::uint64_t first_id, std::size_t max_payload);

}  // namespace armored::spool::format
