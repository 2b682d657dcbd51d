#pragma once
// Streaming decoder: takes byte chunks split anywhere (several packets per
// chunk, or one packet over many chunks) and yields packets one at a time.
// After the first error the stream is unrecoverable (MQTT closes the
// connection on any malformed packet), so the decoder stays failed.

#include <optional>

#include "mqtt/codec.h"

namespace armored::mqtt {

class Decoder {
 public:
  explicit Decoder(Limits limits = {});

  // Appends bytes to the internal buffer (ignored once failed). Invalidates
  // views in packets returned earlier. Drain with next() after every feed;
  // the buffer holds at most one incomplete packet plus the unread input.
  void feed(ByteSpan chunk);

  // The next complete packet, nullopt if more bytes are needed, or the error
  // that failed the stream (returned again on every later call, counted once).
  // Views in the packet stay valid until the next feed().
  MqttResult<std::optional<Packet>> next();

  bool failed() const { return failure_.has_value(); }
  std::size_t buffered() const { return buf_.size() - start_; }
  const ErrorCounters& counters() const { return counters_; }
  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
  Bytes buf_;
  std::size_t start_ = 0;  // first unread byte of buf_
  std::optional<Error> failure_;
  ErrorCounters counters_;
};

}  // namespace armored::mqtt
