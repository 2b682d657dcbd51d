// Reading pending records. Under the mutex, peek snapshots either the memory
// tail (when it holds the first wanted record) or the segment list and the
// durable horizon; the copying and file reads happen outside it, so peeks do
// not stall appends. Every record read from a file is checked again
// (length, CRC, id); the tail holds the very bytes this process wrote.

#include <algorithm>
#include <cerrno>
#include <optional>

#include "spool/internal/spool_state.h"

namespace armored::spool {
namespace {

constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::size_t kMinReadChunk = 4 * 1024;

struct View {
  std::shared_ptr<Segment> seg;
  std::uint64_t records;   // snapshot
  std::uint64_t size;      // snapshot
  std::uint64_t start_id;  // an indexed record at or before the first wanted id
  std::uint64_t start_offset;
};

// A window of one segment file held in memory: [at, at + bytes.size()).
class Window {
 public:
  Window(const View& v, std::size_t chunk) : v_(v), chunk_(chunk) {}
  // Makes [pos, pos + n) available, reading at least a chunk. False on I/O error.
  bool ensure(std::uint64_t pos, std::size_t n) {
    if (pos >= at_ && pos + n <= at_ + bytes_.size()) return true;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, chunk_), v_.size - pos));
    bytes_.resize(want);
    std::size_t done = 0;
    while (done < want) {
      ssize_t r = ::pread(v_.seg->fd, bytes_.data() + done, want - done, static_cast<off_t>(pos + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    at_ = pos;
    return n <= want;
  }
  ByteSpan at(std::uint64_t pos) const { return ByteSpan(bytes_).subspan(static_cast<std::size_t>(pos - at_)); }

 private:
  const View& v_;
  std::size_t chunk_;
  Bytes bytes_;
  std::uint64_t at_ = 0;
};

// How much to read at once: about what the peek can use (the records from
// the index point to the budget, at the segment's average record size), so
// a small batch does not copy a large chunk out of the page cache.
std::size_t read_chunk(const View& v, std::uint64_t want, std::size_t max_records, std::size_t max_bytes) {
  const std::uint64_t payload = v.size - format::kSegmentHeaderSize;
  const std::uint64_t avg = v.records > 0 ? payload / v.records + 1 : format::kFrameHeaderSize;
  const std::uint64_t records = (want > v.start_id ? want - v.start_id : 0) + max_records;
  const std::uint64_t by_count = records > kReadChunk ? kReadChunk : records * avg;
  const std::uint64_t by_bytes = (want > v.start_id ? (want - v.start_id) * avg : 0) + max_bytes +
                                 std::min<std::uint64_t>(max_records, kReadChunk) * format::kFrameHeaderSize;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(std::min(by_count, by_bytes), kMinReadChunk, kReadChunk));
}

std::uint64_t be(ByteSpan b, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | b[i];
  return v;
}

// The record `id` at `pos` of the segment's mirror copy, if it passes every
// check there: what peek serves when the primary's copy of it does not.
std::optional<Bytes> read_from_mirror(const Segment& seg, std::uint64_t id, std::uint64_t pos, std::uint64_t end,
                                      std::size_t limit) {
  if (seg.mirror_fd < 0 || pos + format::kFrameHeaderSize > end) return std::nullopt;
  auto pread_all = [&](Bytes& buf, std::uint64_t at) {
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t r = ::pread(seg.mirror_fd, buf.data() + done, buf.size() - done, static_cast<off_t>(at + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    return true;
  };
  Bytes frame(format::kFrameHeaderSize);
  if (!pread_all(frame, pos)) return std::nullopt;
  const std::size_t len = static_cast<std::size_t>(be(frame, 4));
  if (len == 0 || len > limit || pos + format::frame_size(len) > end) return std::nullopt;
  frame.resize(format::frame_size(len));
  if (!pread_all(frame, pos)) return std::nullopt;
  auto f = format::parse_frame(frame, limit);
  if (!f || f->id != id) return std::nullopt;
  return frame;
}

}  // namespace

SpoolResult<std::vector<SpoolRecord>> Spool::peek(std::size_t max_records, std::size_t max_bytes,
                                                  std::uint64_t after_id) {
  State& s = *s_;
  std::vector<View> views;
  std::vector<std::shared_ptr<const TailBlock>> blocks;
  std::uint64_t want, horizon;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    want = std::max(after_id, s.acked) + 1;
    horizon = s.durable_id;
    if (!s.tail.empty() && s.tail.front()->first_id <= want) {
      // The tail is consecutive up to written_id, so it holds every wanted record.
      for (const auto& b : s.tail) {
        if (b->last_id() < want) continue;
        if (b->first_id > horizon || blocks.size() >= max_records) break;
        blocks.push_back(b);
      }
    } else {
      for (const auto& seg : s.segments) {
        if (seg->records == 0 || seg->last_id() < want) continue;
        std::uint64_t rel = std::max(want, seg->first_id) - seg->first_id;
        std::uint64_t slot = rel / format::kIndexStride;
        views.push_back({seg, seg->records, seg->size, seg->first_id + slot * format::kIndexStride,
                         seg->index.at(static_cast<std::size_t>(slot))});
      }
    }
  }
  std::vector<SpoolRecord> out;
  std::size_t bytes = 0;
  auto finish = [&](bool from_tail) -> SpoolResult<std::vector<SpoolRecord>> {
    std::lock_guard<std::mutex> lk(s.mu);
    (from_tail ? s.counters.tail_records_read : s.counters.disk_records_read) += out.size();
    return std::move(out);
  };

  if (!blocks.empty()) {
    for (const auto& b : blocks) {
      // Frames as append_frame wrote them: length:u32 id:u64 crc:u32 payload.
      ByteSpan f = b->frames;
      for (std::uint64_t id = b->first_id; id <= b->last_id(); ++id) {
        if (id > horizon || out.size() >= max_records) return finish(true);
        const std::size_t len = static_cast<std::size_t>(be(f, 4));
        if (id >= want) {
          if (!out.empty() && bytes + len > max_bytes) return finish(true);
          bytes += len;
          ByteSpan p = f.subspan(format::kFrameHeaderSize, len);
          out.push_back({id, Bytes(p.begin(), p.end())});
        }
        f = f.subspan(format::frame_size(len));
      }
    }
    return finish(true);
  }

  auto corrupt = [&](const Segment& seg, std::uint64_t id, std::uint64_t pos) {
    std::lock_guard<std::mutex> lk(s.mu);
    ++s.counters.corrupt_reads;
    return unexpected(spool_error(SpoolErrorCode::kCorrupt, seg.path.string() + ": damaged record " +
                                                                std::to_string(id) + " at offset " + std::to_string(pos)));
  };
  for (const auto& v : views) {
    const Segment& seg = *v.seg;
    Window win(v, read_chunk(v, want, max_records, max_bytes));
    std::uint64_t pos = v.start_offset;
    const std::uint64_t end_id = seg.first_id + v.records;
    for (std::uint64_t id = v.start_id; id < end_id; ++id) {
      if (id > horizon || out.size() >= max_records) return finish(false);
      std::optional<Bytes> mirrored;  // the record from the mirror, when the primary's fails
      Result<format::Frame, format::FrameError> f = unexpected(format::FrameError::kTruncated);
      if (win.ensure(pos, format::kFrameHeaderSize)) {
        const auto len = static_cast<std::size_t>(be(win.at(pos), 4));
        if (len <= s.scan_limit() && win.ensure(pos, format::frame_size(len))) f = format::parse_frame(win.at(pos), s.scan_limit());
      }
      if (!f || f->id != id) {
        mirrored = read_from_mirror(seg, id, pos, v.size, s.scan_limit());
        if (!mirrored) return corrupt(seg, id, pos);
        f = format::parse_frame(*mirrored, s.scan_limit());
        std::lock_guard<std::mutex> lk(s.mu);
        ++s.counters.mirror_reads;
      }
      if (id >= want) {
        if (!out.empty() && bytes + f->payload.size() > max_bytes) return finish(false);
        bytes += f->payload.size();
        out.push_back({id, Bytes(f->payload.begin(), f->payload.end())});
      }
      pos += f->size;
    }
  }
  return finish(false);
}

}  // namespace armored::spool
