// Reading pending records. The segment list and the durable horizon are
// snapshotted under the mutex; the file reads happen outside it, so peeks do
// not stall appends. Every record is checked again (length, CRC, id).

#include <algorithm>
#include <cerrno>

#include "spool/spool_state.h"

namespace armored::spool {
namespace {

constexpr std::size_t kReadChunk = 256 * 1024;

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
  explicit Window(const View& v) : v_(v) {}
  // Makes [pos, pos + n) available, reading at least a chunk. False on I/O error.
  bool ensure(std::uint64_t pos, std::size_t n) {
    if (pos >= at_ && pos + n <= at_ + bytes_.size()) return true;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, kReadChunk), v_.size - pos));
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
  Bytes bytes_;
  std::uint64_t at_ = 0;
};

}  // namespace

SpoolResult<std::vector<SpoolRecord>> Spool::peek(std::size_t max_records, std::size_t max_bytes,
                                                  std::uint64_t after_id) {
  State& s = *s_;
  std::vector<View> views;
  std::uint64_t want, horizon;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    want = std::max(after_id, s.acked) + 1;
    horizon = s.durable_id;
    for (const auto& seg : s.segments) {
      if (seg->records == 0 || seg->last_id() < want) continue;
      std::uint64_t rel = std::max(want, seg->first_id) - seg->first_id;
      std::uint64_t slot = rel / format::kIndexStride;
      views.push_back({seg, seg->records, seg->size, seg->first_id + slot * format::kIndexStride,
                       seg->index.at(static_cast<std::size_t>(slot))});
    }
  }
  auto corrupt = [&](const Segment& seg, std::uint64_t id, std::uint64_t pos) {
    std::lock_guard<std::mutex> lk(s.mu);
    ++s.counters.corrupt_reads;
    return unexpected(spool_error(SpoolErrorCode::kCorrupt, seg.path.string() + ": damaged record " +
                                                                std::to_string(id) + " at offset " + std::to_string(pos)));
  };

  std::vector<SpoolRecord> out;
  std::size_t bytes = 0;
  for (const auto& v : views) {
    const Segment& seg = *v.seg;
    Window win(v);
    std::uint64_t pos = v.start_offset;
    const std::uint64_t end_id = seg.first_id + v.records;
    for (std::uint64_t id = v.start_id; id < end_id; ++id) {
      if (id > horizon || out.size() >= max_records) return out;
      if (!win.ensure(pos, format::kFrameHeaderSize)) return corrupt(seg, id, pos);
      ByteSpan h = win.at(pos);
      std::size_t len = (std::size_t{h[0]} << 24) | (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | h[3];
      if (len > s.scan_limit()) return corrupt(seg, id, pos);
      if (!win.ensure(pos, format::frame_size(len))) return corrupt(seg, id, pos);
      auto f = format::parse_frame(win.at(pos), s.scan_limit());
      if (!f || f->id != id) return corrupt(seg, id, pos);
      if (id >= want) {
        if (!out.empty() && bytes + f->payload.size() > max_bytes) return out;
        bytes += f->payload.size();
        out.push_back({id, Bytes(f->payload.begin(), f->payload.end())});
      }
      pos += f->size;
    }
  }
  return out;
}

}  // namespace armored::spool
