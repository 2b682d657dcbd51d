#include "mqtt/decoder.h"

namespace armored::mqtt {

Decoder::Decoder(Limits limits) : limits_(limits) {}

void Decoder::feed(ByteSpan chunk) {
  if (failed()) return;
  if (start_ > 0) {  // drop consumed bytes; keeps capacity, so no allocation in steady state
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buf_.insert(buf_.end(), chunk.begin(), chunk.end());
}

MqttResult<std::optional<Packet>> Decoder::next() {
  if (failure_) return unexpected(*failure_);
  auto frame = decode_frame(ByteSpan(buf_).subspan(start_), limits_);
  if (!frame) {
    failure_ = frame.error();
    counters_.record(failure_->code);
    return unexpected(*failure_);
  }
  if (!frame->has_value()) return std::optional<Packet>{};
  start_ += (*frame)->consumed;
  return std::optional<Packet>{std::move((*frame)->packet)};
}

}  // namespace armored::mqtt
