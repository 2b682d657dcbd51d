#include "command/processor.h"

namespace armored::command {

namespace {
constexpr std::uint64_t kUnitsPerToken = 60'000;  // milliseconds per minute

}  // namespace

CommandProcessor::CommandProcessor(const Schema& schema, std::string device_type, Actuator& actuator,
                                   ProcessorConfig config)
    : schema_(&schema),
      device_type_(std::move(device_type)),
      actuator_(&actuator),
      config_(config),
      validator_(schema) {}

Reply CommandProcessor::refuse(std::uint64_t id, Reason r) {
  counters_.refused.count(r);
  Reply reply;
  reply.command_id = id;
  reply.outcome = Outcome::kRefused;
  reply.reason = r;
  return reply;
}

bool CommandProcessor::remembered(std::uint64_t id) const { return id_set_.contains(id); }

void CommandProcessor::remember(std::uint64_t id) {
  if (config_.remembered_ids == 0) return;
  // Beyond the limit the oldest id is forgotten; by then its issued_at is
  // normally outside the freshness window, so it is refused as stale anyway.
  while (ids_.size() >= config_.remembered_ids) {
    id_set_.erase(ids_.front());
    ids_.pop_front();
  }
  ids_.push_back(id);
  id_set_.insert(id);
}

bool CommandProcessor::take_token(const CommandSpec& spec, Clock::TimePoint now) {
  const std::uint64_t rate = spec.rate_per_minute;
  const std::uint64_t capacity = rate * kUnitsPerToken;
  const std::int64_t now_ms = unix_ms(now);
  auto [it, fresh] = buckets_.try_emplace(spec.name, Bucket{capacity, now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.updated_ms) {
    // Elapsed time capped at one minute: a full refill, and no overflow.
    const auto elapsed = static_cast<std::uint64_t>(std::min<std::int64_t>(now_ms - b.updated_ms, 60'000));
    b.units = std::min(capacity, b.units + elapsed * rate);
  }
  // A clock that steps back refills nothing until it passes updated_ms again.
  b.updated_ms = std::max(b.updated_ms, now_ms);
  if (b.units < kUnitsPerToken) return false;
  b.units -= kUnitsPerToken;
  return true;
}

Reply CommandProcessor::handle(ByteSpan plaintext, Clock::TimePoint now) {
  ++counters_.received;
  auto c = decode_command(plaintext);
  if (!c) {
    counters_.decode_errors.count(c.error().code);
    return refuse(0, Reason::kMalformed);
  }
  const std::int64_t now_ms = unix_ms(now);
  if (c->issued_at_ms < now_ms - config_.freshness.count()) return refuse(c->id, Reason::kStale);
  if (c->issued_at_ms > now_ms + config_.max_future_skew.count()) return refuse(c->id, Reason::kFuture);
  if (remembered(c->id)) return refuse(c->id, Reason::kReplayed);
  remember(c->id);
  if (auto ok = validator_.check(device_type_, *c); !ok) return refuse(c->id, ok.error().reason);
  const CommandSpec* spec = schema_->device_type(device_type_)->find(c->name);
  if (!take_token(*spec, now)) return refuse(c->id, Reason::kRateLimited);
  auto result = actuator_->apply(*c, now);
  if (!result) return refuse(c->id, result.error());
  ++counters_.accepted;
  Reply reply;
  reply.command_id = c->id;
  reply.outcome = Outcome::kAccepted;
  reply.result = std::move(*result);
  canonical_sort(reply.result);
  return reply;
}

Bytes CommandProcessor::handle_to_wire(ByteSpan plaintext, Clock::TimePoint now) {
  Reply reply = handle(plaintext, now);
  auto wire = encode_reply(reply);
  if (wire) return std::move(*wire);
  // Only an actuator's oversized result can fail to encode: say so instead.
  Reply failed;
  failed.command_id = reply.command_id;
  failed.reason = Reason::kFailed;
  return std::move(*encode_reply(failed));
}

}  // namespace armored::command
