#pragma once
// Rows of the cloud's storage and the store's error type. Times are Unix
// milliseconds (`_ms`) except the reading's own timestamp (Unix seconds, as
// on the wire). Identities are the device identities the cloud derived from
// verified credentials; key ids are the E3 key identifiers (raw bytes).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "telemetry/reading.h"

namespace armored::store {

enum class StoreErrorCode : std::uint8_t {
  kUnavailable,      // cannot open or reach the database
  kIo,               // a statement or commit failed; nothing of the call is stored
  kInvalidArgument,  // a value the schema cannot hold (e.g. seq >= 2^63)
  kConflict,         // e.g. a key id already bound to another identity
  kNotFound,         // e.g. no command with that id
};

struct StoreError {
  StoreErrorCode code;
  std::string message;
};

// The general error, component "store": unavailable and io are failures
// (exit 1), the others bad input.
Error to_error(const StoreError& e);

template <typename T>
using StoreResult = Result<T, StoreError>;
using StoreStatus = Result<void, StoreError>;

// One accepted reading: the envelope's identity fields, the 52 plaintext
// bytes and the fields the cloud queries by, decoded once at ingest.
// A device the registry enrolled: its E3 key id and its identity.
struct DeviceEnrollment {
  Bytes key_id;
  std::string identity;
};

struct ReadingRow {
  std::string device;
  Bytes key_id;
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;  // < 2^63
  std::int64_t timestamp = 0;
  std::uint16_t heart_rate_dbpm = 0;
  std::uint8_t spo2_pct = 0;
  telemetry::ReadingBytes payload{};
  std::int64_t received_at_ms = 0;
  bool operator==(const ReadingRow&) const = default;
};

// What identifies a stored reading.
struct ReadingKey {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;
  bool operator==(const ReadingKey&) const = default;
};

// A run of consecutive stored sequence numbers of one device and epoch
// (inclusive), with the receive times of the readings at its two ends.
struct SeqRun {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::int64_t first_at_ms = 0;
  std::int64_t last_at_ms = 0;
  bool operator==(const SeqRun&) const = default;
};

// Sequence numbers of one device and epoch that were never stored although
// a later (or, for a gap at the start, any) number of the epoch was: lost on
// the way or still to come. Numbers start at 0 in every epoch.
struct SequenceGap {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t first_missing = 0;
  std::uint64_t last_missing = 0;
  std::int64_t after_ms = 0;   // receive time of the reading before the gap (0: the gap starts the epoch)
  std::int64_t before_ms = 0;  // receive time of the reading after it: missing since at least then
  std::uint64_t count() const { return last_missing - first_missing + 1; }
  bool operator==(const SequenceGap&) const = default;
};

struct BatchResult {
  std::size_t inserted = 0;
  std::size_t duplicates = 0;  // (device, epoch, seq) already stored, or repeated in the batch
  std::size_t replies = 0;     // replies new to the store (the rest were copies)
};

struct DeviceRow {
  Bytes key_id;
  std::string identity;
  std::int64_t registered_at_ms = 0;
  std::int64_t last_seen_ms = 0;  // 0: never seen
  bool operator==(const DeviceRow&) const = default;
};

// A page of the devices table for the dashboard: identities containing
// `search` (case-sensitive, no wildcards), optionally only those not seen
// since `not_seen_since_ms` (never seen included), ordered by identity.
struct DeviceQuery {
  std::string search;
  std::int64_t not_seen_since_ms = 0;  // 0: every device
  std::size_t offset = 0;
  std::size_t limit = 50;  // at most kMaxDevicePage
};
inline constexpr std::size_t kMaxDevicePage = 500;
// `search` as a LIKE pattern matching identities that contain it, with
// '%', '_' and '\\' escaped (ESCAPE '\\').
std::string like_contains(std::string_view search);
struct DevicePage {
  std::vector<DeviceRow> devices;
  std::uint64_t total = 0;  // devices matching, all pages
};

// Replay protection state of one device in one key epoch. `window` is the
// E3 layer's opaque bitmap; the store never interprets it.
struct ReplayState {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t highest_seq = 0;
  Bytes window;
  bool operator==(const ReplayState&) const = default;
};

// One device's E3 receiver state as the scaled mode's workers share it
// (docs/scale-out.md): an entry the caller seals, ordered by epoch.
struct E3DeviceState {
  Bytes key_id;
  std::uint32_t epoch = 0;  // the device's highest epoch in the entry
  Bytes entry;
  bool operator==(const E3DeviceState&) const = default;
};

// A TLS ticket-encryption key the fronts of a scaled cloud share, sealed by
// the caller (docs/scale-out.md, "Resumption").
struct SealedTicketKey {
  Bytes name;  // 16 bytes, the key's name in tickets
  Bytes sealed;
  std::int64_t created_ms = 0;
  bool operator==(const SealedTicketKey&) const = default;
};

enum class EventKind : std::uint8_t {
  kRejectedEnvelope,  // E3 open failed: bad tag, unknown key, replay, bad reading
  kFailedHandshake,   // TLS handshake failed or the client had no certificate
  kAclDenied,         // MQTT publish/subscribe outside the peer's topics
  kEarlyDataRefused,  // 0-RTT carried something other than uplink telemetry
  kProtocolError,     // malformed MQTT or framing
  kCommandRefused,    // a device command refused by the cloud's schema or by the device
  kOther,
  // Not a rejection: a peer completed the mutual-TLS handshake. The fleet
  // audit reads these to find revoked identities that still got in and
  // identities that never connected. peer = identity, detail names the serial.
  kConnected,
  // A dashboard request with a missing or refused token (peer = address).
  kOperatorAuthFailed,
};

struct SecurityEvent {
  std::int64_t at_ms = 0;
  EventKind kind = EventKind::kOther;
  std::string reason;  // short, stable, countable ("bad tag", "replayed seq")
  std::string peer;    // gateway or device identity, or the peer address
  std::string detail;  // free text; never key material or plaintext
  bool operator==(const SecurityEvent&) const = default;
};

enum class CommandStatus : std::uint8_t { kPending, kSent, kAcknowledged, kFailed, kExpired };

// A device's reply to a command, opened by the cloud. It takes one of the
// device's uplink sequence numbers, so the store accounts for it beside the
// readings (it is not a gap), and settles the command it answers: in the
// transaction that first stores the reply, whichever process opened it.
// Only the device the command was for can have opened it, so the reply's
// command id and device together are enough to match.
struct ReplyRow {
  std::string device;
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;
  std::int64_t command_id = 0;  // 0: the device could not tell which command
  CommandStatus outcome = CommandStatus::kAcknowledged;  // kAcknowledged or kFailed
  std::string reason;  // the result (JSON) or why the device refused
  std::int64_t received_at_ms = 0;
};

struct Command {
  std::int64_t id = 0;  // assigned by add_command
  std::string device;
  std::string command;
  std::string params;  // JSON text
  CommandStatus status = CommandStatus::kPending;
  std::string reason;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  bool operator==(const Command&) const = default;
};

const char* to_string(EventKind k);
EventKind event_kind_from(std::string_view s);  // unknown text -> kOther
const char* to_string(CommandStatus s);
std::optional<CommandStatus> command_status_from(std::string_view s);

}  // namespace armored::store
