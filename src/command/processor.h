#pragma once
// The device side of commands, sans-I/O: takes the plaintext that
// e3::Sealer::open_command() produced and the device's wall-clock time, and
// returns the reply to seal with e3::Sealer::seal(). Checks, in order (the
// first failure is the reply's reason):
//
//   1. the plaintext decodes as a command                 -> malformed (reply id 0)
//   2. issued_at >= now - freshness                        -> stale
//      issued_at <= now + max_future_skew                  -> future
//   3. the id was not handled before (remembered ids)      -> replayed
//   4. the command validates against the device's schema   -> validation reasons
//   5. the command's token bucket has a token              -> rate_limited
//   6. the Actuator performs it                            -> unsupported / failed
//
// Replays of the same envelope never get here (E3's replay window stops
// them); step 3 stops the same command sealed again. A refused command
// changes no device setting, and a flood only costs the refusals.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "command/codec.h"
#include "command/error.h"
#include "command/schema.h"
#include "command/validate.h"
#include "command/value.h"
#include "common/clock.h"
#include "common/result.h"

namespace armored::command {

// What a device does with a validated command. apply() runs only for
// commands that passed every check; it returns the result fields for the
// reply (may be empty) or the reason it could not act (kUnsupported for a
// command it has no action for, kFailed when the action failed).
class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual Result<std::vector<Param>, Reason> apply(const Command& command, Clock::TimePoint now) = 0;
};

struct ProcessorConfig {
  std::chrono::milliseconds freshness{60'000};        // oldest issued_at accepted, behind now
  std::chrono::milliseconds max_future_skew{5'000};   // latest issued_at accepted, ahead of now
  std::size_t remembered_ids = 1024;                  // most recent ids kept for step 3
};

struct ProcessorCounters {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0;
  ReasonCounters refused;  // by reason
  CodecCounters decode_errors;  // why the kMalformed ones did not decode
};

class CommandProcessor {
 public:
  // `device_type` must be declared in `schema`; schema and actuator must
  // outlive the processor. Rate-limit buckets start full.
  CommandProcessor(const Schema& schema, std::string device_type, Actuator& actuator,
                   ProcessorConfig config = {});

  // Runs checks 1-6 on one opened command plaintext. Always returns a reply
  // (an acceptance or a refusal with its reason).
  Reply handle(ByteSpan plaintext, Clock::TimePoint now);
  // handle() and encode the reply, ready for e3::Sealer::seal().
  Bytes handle_to_wire(ByteSpan plaintext, Clock::TimePoint now);

  const ProcessorCounters& counters() const { return counters_; }
  const std::string& device_type() const { return device_type_; }

 private:
  // Token bucket in exact integer units: one token = 60000 units, refilled
  // at rate_per_minute units per millisecond, capacity rate_per_minute tokens.
  struct Bucket {
    std::uint64_t units = 0;
    std::int64_t updated_ms = 0;
  };
  Reply refuse(std::uint64_t id, Reason r);
  bool remembered(std::uint64_t id) const;
  void remember(std::uint64_t id);
  bool take_token(const CommandSpec& spec, Clock::TimePoint now);

  const Schema* schema_;
  std::string device_type_;
  Actuator* actuator_;
  ProcessorConfig config_;
  Validator validator_;
  std::deque<std::uint64_t> ids_;  // oldest first, at most remembered_ids
  std::set<std::uint64_t> id_set_;  // the same ids, for lookup
  std::map<std::string, Bucket, std::less<>> buckets_;
  ProcessorCounters counters_;
};

}  // namespace armored::command
