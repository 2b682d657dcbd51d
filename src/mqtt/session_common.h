#pragma once
// Pieces both session state machines share: injected time, the outgoing byte
// queue, packet identifier allocation and the QoS 1 in-flight window.

#include <bitset>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "common/bytes.h"
#include "mqtt/codec.h"

namespace armored::mqtt {

// Monotonic time supplied by the caller (e.g. Clock::monotonic()); sessions
// never read a clock themselves.
using Time = std::chrono::nanoseconds;
using Duration = std::chrono::nanoseconds;

// A transition of a session's state table: in `from`, a packet of type `on`
// moves the session to `to` and runs `handler`. Undeclared pairs are errors.
template <typename State, typename Handler>
struct Transition {
  State from;
  PacketType on;
  State to;
  Handler handler;
};

template <typename State, typename Handler, std::size_t N>
const Transition<State, Handler>* find_transition(const Transition<State, Handler> (&table)[N],
                                                  State s, PacketType t) {
  for (const auto& row : table) {
    if (row.from == s && row.on == t) return &row;
  }
  return nullptr;
}

// Bytes waiting for the transport. The application writes pending() to the
// socket and reports how much went out with consume().
class OutputQueue {
 public:
  ByteSpan pending() const { return ByteSpan(buf_).subspan(start_); }
  void consume(std::size_t n);
  void append(ByteSpan b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  MqttStatus append(const Packet& p) { return append_packet(p, buf_); }
  void clear() { buf_.clear(), start_ = 0; }

 private:
  Bytes buf_;
  std::size_t start_ = 0;
};

// Hands out identifiers not currently in use [MQTT-2.3.1-2], never 0.
class PacketIdAllocator {
 public:
  std::optional<std::uint16_t> allocate();
  void release(std::uint16_t id) { used_.reset(id); }
  bool in_use(std::uint16_t id) const { return used_.test(id); }

 private:
  std::bitset<65536> used_;
  std::uint16_t next_ = 1;
};

// Outbound QoS 1 PUBLISH packets awaiting PUBACK, kept in send order so
// re-sends keep the original order [MQTT-4.6.0-1].
class InflightWindow {
 public:
  InflightWindow(std::size_t capacity, Duration retransmit_after)
      : capacity_(capacity), retransmit_after_(retransmit_after) {}

  bool full() const { return entries_.size() >= capacity_; }
  std::size_t size() const { return entries_.size(); }
  void add(std::uint16_t id, Bytes encoded, Time now);
  // Removes the entry; false if no PUBLISH with this id is in flight.
  bool ack(std::uint16_t id);
  // Appends a DUP copy [MQTT-3.3.1-1] of every entry sent at least
  // retransmit_after ago (all entries if `all`), among the oldest `limit`
  // entries. Returns how many.
  std::size_t resend(Time now, bool all, OutputQueue& out, std::size_t limit = SIZE_MAX);
  // When the oldest entry becomes due, if retransmission is enabled.
  std::optional<Time> next_due() const;

 private:
  struct Entry {
    std::uint16_t id;
    Bytes packet;
    Time sent;
  };
  std::size_t capacity_;
  Duration retransmit_after_;  // zero: only on reconnect
  std::deque<Entry> entries_;
};

// Received QoS 1 PUBLISH packets whose PUBACK the application releases when
// it is done with them (e.g. once stored durably). PUBACKs leave in the order
// the PUBLISH packets arrived [MQTT-4.6.0-2], so one may wait for an earlier one.
class InboundAcks {
 public:
  explicit InboundAcks(std::size_t capacity) : capacity_(capacity) {}
  // Records a received PUBLISH. A re-sent one still awaiting its release is
  // not added twice. Fails with kInflightWindowFull above capacity.
  MqttStatus received(std::uint16_t id);
  // Releases `id` and queues every PUBACK now in order. Fails with
  // kUnknownPacketId if no unreleased PUBLISH has this id.
  MqttStatus release(std::uint16_t id, OutputQueue& out);
  // A new connection: nothing received on the old one can be acknowledged.
  void clear() { pending_.clear(); }
  std::size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint16_t id;
    bool released;
  };
  std::size_t capacity_;
  std::deque<Pending> pending_;
};

// Earlier of two optional deadlines.
inline std::optional<Time> earliest(std::optional<Time> a, std::optional<Time> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace armored::mqtt
