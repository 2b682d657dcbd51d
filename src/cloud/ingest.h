#pragma once
// Ingest: turns one uplink PUBLISH payload (one E3 message or a batch) into
// rows to store and security events to record. Sans-I/O: the caller stores
// the result durably and only then acknowledges the PUBLISH.
//
// Every message is checked in this order: batch framing, E3 header, E3
// open (key ID, epoch, tag, replay window), reading decode and field ranges.
// A failure at any step rejects that message alone, records why, and never
// stores anything of it; the rest of the batch goes on.

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "command/value.h"
#include "common/clock.h"
#include "e3/e3.h"
#include "store/types.h"
#include "telemetry/reading.h"

namespace armored::cloud {

struct IngestPolicy {
  telemetry::ValidationPolicy reading;
  e3::BatchLimits batch{255, 4096};
};

// Why a message was rejected, for counters and the status line.
enum class Reject : std::uint8_t {
  kBadBatch,       // batch framing malformed or over limits (the whole payload)
  kMalformed,      // E3 header or body malformed
  kUnknownKey,     // no device with this key ID
  kBadEpoch,       // unknown or expired epoch
  kForged,         // AEAD tag or announcement signature failed
  kReplayed,       // sequence already seen, or left of the window
  kRedelivered,    // the same, in a PUBLISH marked DUP: most likely a lost PUBACK
  kBadReading,     // plaintext is not a valid reading (ranges, length)
  kBadAnnouncement,  // stale or otherwise unacceptable announcement
  kBadReply,       // plaintext marked as a command reply does not decode
  kOther,
};
inline constexpr std::size_t kRejectCount = static_cast<std::size_t>(Reject::kOther) + 1;
const char* to_string(Reject r);

// A device's answer to a command, opened and decoded (command/codec.h).
struct OpenedReply {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;
  command::Reply reply;
};

// A reading's identity as the opener keys it, to mark it received once it
// is stored (Ingest::mark_stored).
struct ReceivedKey {
  std::array<std::uint8_t, 8> kid{};
  std::uint8_t kid_size = 0;
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;
};

struct PreparedUplink {
  std::vector<store::ReadingRow> rows;
  std::vector<ReceivedKey> received;  // one per row and reply: mark them once the batch is durable
  std::vector<OpenedReply> replies;  // matched to sent commands by the caller
  std::vector<store::SecurityEvent> events;
  std::size_t messages = 0;
  std::size_t announcements = 0;  // accepted, new epochs
  std::size_t rejected = 0;
  bool opener_changed = false;    // new epochs: persist the opener before acknowledging
  std::vector<Bytes> changed_kids;  // whose epochs changed (E3StateFile::capture)
};

struct IngestCounters {
  std::uint64_t messages = 0;
  std::uint64_t readings = 0;       // opened and valid (before storage dedup)
  std::uint64_t announcements = 0;
  std::uint64_t replies = 0;        // command replies opened and decoded
  std::array<std::uint64_t, kRejectCount> rejected{};
  std::uint64_t rejected_total() const;
};

class Ingest {
 public:
  Ingest(e3::Opener& opener, Clock& clock, IngestPolicy policy = {});

  // Opens every message of `payload`, published by the gateway `peer`.
  // `redelivery` is the PUBLISH's DUP flag. It changes only how a replayed
  // envelope is counted and recorded ("redelivered": most likely a PUBACK
  // that was lost, not an attack); every check runs and the envelope is
  // dropped exactly as without it.
  PreparedUplink prepare(std::string_view peer, ByteSpan payload, bool redelivery);

  // The rows of a prepare() are durable (stored, or found stored already):
  // the replay window may now record them (e3/opener.h). Never call it for
  // rows whose commit failed: their re-sent copies must open again.
  void mark_stored(std::span<const ReceivedKey> keys);

  const IngestCounters& counters() const { return counters_; }

 private:
  void handle_message(std::string_view peer, ByteSpan message, bool redelivery, Clock::TimePoint now,
                      PreparedUplink& out_);
  void reject(PreparedUplink& out_, Reject why, std::string_view peer, std::string reason,
              std::string detail);

  e3::Opener& opener_;
  Clock& clock_;
  IngestPolicy policy_;
  IngestCounters counters_;
};

}  // namespace armored::cloud
