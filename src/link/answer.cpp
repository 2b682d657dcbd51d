#include "link/link.h"

#include <algorithm>

#include "link/internal/answer_header.h"

namespace armored::link {

using internal::answer_header_size;

// Answers share the socket with relayed E3 envelopes: their first byte must
// never read as the flags of a type an E3 message can have (section 9.1).
static_assert(!e3::flags_type(kAckSpooled) && !e3::flags_type(kAckRefused) && !e3::flags_type(kAckPacked));

Result<IngressMessage, IngressReject> classify_datagram(ByteSpan d) {
  if (d.size() > kMaxDatagram) return unexpected(IngressReject::kOversized);
  auto h = e3::parse_header(d);
  if (!h) return unexpected(IngressReject::kMalformed);
  if (h->type != e3::MessageType::kUplink && h->type != e3::MessageType::kAnnouncement) {
    return unexpected(IngressReject::kNotUplink);
  }
  return IngressMessage{*h, d.first(h->header_size)};
}

std::size_t write_answer(std::uint8_t kind, ByteSpan header_bytes, MutableByteSpan out_) {
  if (out_.size() < 1 + header_bytes.size()) return 0;
  out_[0] = kind;
  std::copy(header_bytes.begin(), header_bytes.end(), out_.begin() + 1);
  return 1 + header_bytes.size();
}

std::optional<Answer> parse_answer(ByteSpan d) {
  // The device matches the echoed header byte for byte against what it sent,
  // so only the shape is checked here.
  if (d.size() < 3 || d.size() > 1 + e3::kMaxHeaderSize) return std::nullopt;
  if (d[0] != kAckSpooled && d[0] != kAckRefused) return std::nullopt;
  return Answer{d[0], d.subspan(1)};
}

std::size_t internal::answer_header_size(std::uint8_t flags) {
  const std::optional<e3::MessageType> type = e3::flags_type(flags);
  const std::size_t kid = e3::flags_kid_size(flags);
  const std::size_t piv = e3::flags_partial_iv_size(flags);
  if (type == e3::MessageType::kUplink) {
    if (piv < 1 || piv > e3::kMaxPartialIvSize) return 0;
  } else if (type == e3::MessageType::kAnnouncement) {
    if (piv != 0) return 0;
  } else {
    return 0;  // downlink or reserved: never answered
  }
  return 2 + kid + piv;
}

std::string_view answer_error_name(AnswerError e) {
  switch (e) {
    case AnswerError::kNotAnswer: return "not an answer";
    case AnswerError::kOversized: return "oversized answer";
    case AnswerError::kTruncated: return "truncated answer";
    case AnswerError::kBadKind: return "unknown answer kind";
    case AnswerError::kBadHeader: return "bad echoed header";
    case AnswerError::kTooMany: return "too many answers";
  }
  return "unknown";
}

namespace {

Result<std::size_t, AnswerError> parse_packed(ByteSpan d, std::span<Answer> out_) {
  if (d.size() > kMaxPackedAnswer) return unexpected(AnswerError::kOversized);
  ByteReader r(d.subspan(1));
  std::size_t n = 0;
  while (r.remaining() > 0) {
    std::uint8_t kind = 0;
    (void)r.read_u8(kind);
    if (kind != kAckSpooled && kind != kAckRefused) return unexpected(AnswerError::kBadKind);
    if (r.remaining() == 0) return unexpected(AnswerError::kTruncated);
    const std::size_t hs = answer_header_size(r.rest()[0]);
    if (hs == 0) return unexpected(AnswerError::kBadHeader);
    ByteSpan header;
    if (!r.read_bytes(hs, header)) return unexpected(AnswerError::kTruncated);
    if (n == out_.size()) return unexpected(AnswerError::kTooMany);
    out_[n++] = Answer{kind, header};
  }
  if (n == 0) return unexpected(AnswerError::kTruncated);
  return n;
}

Result<std::size_t, AnswerError> parse_single(ByteSpan d, std::span<Answer> out_) {
  if (d.size() > 1 + e3::kMaxHeaderSize) return unexpected(AnswerError::kOversized);
  if (d.size() < 1 + kMinAnswerHeader) return unexpected(AnswerError::kTruncated);
  const std::size_t hs = answer_header_size(d[1]);
  if (hs == 0) return unexpected(AnswerError::kBadHeader);
  if (d.size() != 1 + hs) return unexpected(d.size() < 1 + hs ? AnswerError::kTruncated : AnswerError::kOversized);
  if (out_.empty()) return unexpected(AnswerError::kTooMany);
  out_[0] = Answer{d[0], d.subspan(1)};
  return std::size_t{1};
}

}  // namespace

Result<std::size_t, AnswerError> parse_answers(ByteSpan d, std::span<Answer> out_, AnswerStats* stats) {
  Result<std::size_t, AnswerError> r = unexpected(AnswerError::kNotAnswer);
  const bool packed = !d.empty() && d[0] == kAckPacked;
  if (packed) {
    r = parse_packed(d, out_);
  } else if (!d.empty() && (d[0] == kAckSpooled || d[0] == kAckRefused)) {
    r = parse_single(d, out_);
  }
  if (stats) {
    if (!r) {
      if (r.error() != AnswerError::kNotAnswer) ++stats->rejected;
    } else {
      ++(packed ? stats->packed : stats->single);
      stats->entries += *r;
    }
  }
  return r;
}

bool AnswerPacker::add(std::uint8_t kind, ByteSpan header_bytes) {
  if (kind != kAckSpooled && kind != kAckRefused) return false;
  if (header_bytes.empty() || answer_header_size(header_bytes[0]) != header_bytes.size()) return false;
  if (size_ + 1 + header_bytes.size() > buf_.size()) return false;
  buf_[size_] = kind;
  std::copy(header_bytes.begin(), header_bytes.end(), buf_.begin() + static_cast<std::ptrdiff_t>(size_ + 1));
  size_ += 1 + header_bytes.size();
  ++entries_;
  return true;
}

ByteSpan AnswerPacker::take() {
  ByteSpan out;
  if (entries_ == 1) {
    out = ByteSpan(buf_).subspan(1, size_ - 1);  // the single form: kind || header
  } else if (entries_ > 1) {
    buf_[0] = kAckPacked;
    out = ByteSpan(buf_).first(size_);
  }
  size_ = 1;
  entries_ = 0;
  return out;
}

}  // namespace armored::link
