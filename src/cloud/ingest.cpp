#include "cloud/ingest.h"

#include <fmt/format.h>

#include "command/codec.h"
#include "common/hex.h"

namespace armored::cloud {

const char* to_string(Reject r) {
  switch (r) {
    case Reject::kBadBatch: return "bad batch";
    case Reject::kMalformed: return "malformed envelope";
    case Reject::kUnknownKey: return "unknown key id";
    case Reject::kBadEpoch: return "unknown or expired epoch";
    case Reject::kForged: return "authentication failed";
    case Reject::kReplayed: return "replayed";
    case Reject::kRedelivered: return "redelivered";
    case Reject::kBadReading: return "invalid reading";
    case Reject::kBadAnnouncement: return "bad announcement";
    case Reject::kBadReply: return "bad command reply";
    case Reject::kOther: return "other";
  }
  return "other";
}

std::uint64_t IngestCounters::rejected_total() const {
  std::uint64_t n = 0;
  for (auto v : rejected) n += v;
  return n;
}

namespace {

ReceivedKey received_key(ByteSpan kid, std::uint32_t epoch, std::uint64_t seq) {
  ReceivedKey key;
  std::copy(kid.begin(), kid.end(), key.kid.begin());
  key.kid_size = static_cast<std::uint8_t>(kid.size());
  key.epoch = epoch;
  key.seq = seq;
  return key;
}

Reject classify(e3::E3Errc c) {
  using e3::E3Errc;
  switch (c) {
    case E3Errc::kMalformed:
    case E3Errc::kOversized: return Reject::kMalformed;
    case E3Errc::kUnknownKeyId: return Reject::kUnknownKey;
    case E3Errc::kUnknownEpoch:
    case E3Errc::kExpiredEpoch: return Reject::kBadEpoch;
    case E3Errc::kAuthFailed: return Reject::kForged;
    case E3Errc::kReplayed:
    case E3Errc::kTooOld: return Reject::kReplayed;
    case E3Errc::kStaleAnnouncement: return Reject::kBadAnnouncement;
    default: return Reject::kOther;
  }
}

}  // namespace

Ingest::Ingest(e3::Opener& opener, Clock& clock, IngestPolicy policy)
    : opener_(opener), clock_(clock), policy_(policy) {}

void Ingest::reject(PreparedUplink& out_, Reject why, std::string_view peer, std::string reason,
                    std::string detail) {
  ++out_.rejected;
  ++counters_.rejected[static_cast<std::size_t>(why)];
  store::SecurityEvent ev;
  ev.at_ms = unix_ms(clock_.now());
  ev.kind = store::EventKind::kRejectedEnvelope;
  ev.reason = std::move(reason);
  ev.peer = std::string(peer);
  ev.detail = std::move(detail);
  out_.events.push_back(std::move(ev));
}

PreparedUplink Ingest::prepare(std::string_view peer, ByteSpan payload, bool redelivery) {
  PreparedUplink out;
  // One clock read per PUBLISH: every reading of a batch is received at once.
  const Clock::TimePoint now = clock_.now();
  if (e3::is_batch(payload)) {
    auto batch = e3::decode_batch(payload, policy_.batch);
    if (!batch) {
      ++counters_.messages;
      out.messages = 1;
      reject(out, Reject::kBadBatch, peer, to_string(Reject::kBadBatch),
             fmt::format("{} ({} bytes)", batch.error().message, payload.size()));
      return out;
    }
    out.rows.reserve(batch->size());
    out.received.reserve(batch->size());
    for (ByteSpan m : *batch) handle_message(peer, m, redelivery, now, out);
  } else {
    handle_message(peer, payload, redelivery, now, out);
  }
  return out;
}

void Ingest::mark_stored(std::span<const ReceivedKey> keys) {
  for (const auto& k : keys) opener_.mark_received(ByteSpan(k.kid.data(), k.kid_size), k.epoch, k.seq);
}

void Ingest::handle_message(std::string_view peer, ByteSpan message, bool redelivery, Clock::TimePoint now,
                            PreparedUplink& out_) {
  ++out_.messages;
  ++counters_.messages;
  auto header = e3::parse_header(message);
  if (!header) {
    reject(out_, Reject::kMalformed, peer, to_string(Reject::kMalformed), header.error().message);
    return;
  }
  // Formatted only for a rejection: the accepted path must not pay for it.
  auto where = [&] {
    return fmt::format("kid {} epoch-id {} seq {}", to_hex(header->kid), header->epoch_id, header->sequence);
  };
  if (header->type == e3::MessageType::kAnnouncement) {
    auto acc = opener_.accept_announcement(message);
    if (!acc) {
      Reject why = classify(acc.error().code);
      if (why == Reject::kMalformed || why == Reject::kOther) why = Reject::kBadAnnouncement;
      reject(out_, why, peer, std::string("announcement: ") + e3::to_string(acc.error().code),
             fmt::format("{}: {}", where(), acc.error().message));
      return;
    }
    if (!acc->duplicate) {
      ++out_.announcements;
      ++counters_.announcements;
      out_.opener_changed = true;
      out_.changed_kids.emplace_back(acc->kid.begin(), acc->kid.end());
    }
    return;
  }
  if (header->type != e3::MessageType::kUplink) {
    reject(out_, Reject::kMalformed, peer, "not an uplink message", where());
    return;
  }
  // Not zero-filled: open() writes exactly the plaintext_size bytes read below
  // and wipes the buffer itself when authentication fails.
  std::array<std::uint8_t, 1024> plain;
  auto opened = opener_.open(message, plain);
  if (!opened) {
    Reject why = classify(opened.error().code);
    std::string reason = e3::to_string(opened.error().code);
    std::string detail = fmt::format("{}: {}", where(), opened.error().message);
    if (why == Reject::kReplayed && redelivery) {
      // Dropped all the same; only the label differs (the DUP flag is the
      // sender's claim and decides nothing else).
      why = Reject::kRedelivered;
      detail = fmt::format("{} in a DUP publish; {}", reason, detail);
      reason = to_string(why);
    }
    reject(out_, why, peer, std::move(reason), std::move(detail));
    return;
  }
  ByteSpan pt(plain.data(), opened->plaintext_size);
  if (command::classify_uplink(pt) == command::UplinkKind::kReply) {
    auto reply = command::decode_reply(pt);
    if (!reply) {
      reject(out_, Reject::kBadReply, peer, to_string(Reject::kBadReply),
             fmt::format("device {} epoch {} seq {}: {} ({})", opened->device_id, opened->epoch, opened->sequence,
                         command::to_string(reply.error().code), reply.error().message));
      return;
    }
    ++counters_.replies;
    // Stored with the batch (its outcome and its sequence number), so like a
    // reading it is received once that commit is durable: a copy re-sent
    // after a failed commit or a stop opens again.
    out_.received.push_back(received_key(header->kid, opened->epoch, opened->sequence));
    out_.replies.push_back({std::string(opened->device_id), opened->epoch, opened->sequence, std::move(*reply)});
    return;
  }
  auto reading = telemetry::parse_reading(pt, now, policy_.reading);
  if (!reading) {
    reject(out_, Reject::kBadReading, peer, to_string(Reject::kBadReading),
           fmt::format("device {} epoch {} seq {}: {}", opened->device_id, opened->epoch,
                       opened->sequence, telemetry::to_string(reading.error())));
    return;
  }
  ++counters_.readings;
  out_.received.push_back(received_key(header->kid, opened->epoch, opened->sequence));
  store::ReadingRow row;
  row.device = std::string(opened->device_id);
  row.key_id.assign(header->kid.begin(), header->kid.end());
  row.epoch = opened->epoch;
  row.seq = opened->sequence;
  row.timestamp = reading->timestamp;
  row.heart_rate_dbpm = reading->heart_rate_dbpm;
  row.spo2_pct = reading->spo2_pct;
  std::copy(pt.begin(), pt.end(), row.payload.begin());
  row.received_at_ms = unix_ms(now);
  out_.rows.push_back(std::move(row));
}

}  // namespace armored::cloud
