#include "mqtt/session_common.h"

namespace armored::mqtt {

void OutputQueue::consume(std::size_t n) {
  start_ += std::min(n, buf_.size() - start_);
  if (start_ == buf_.size()) clear();  // common case: everything written, keep capacity
}

std::optional<std::uint16_t> PacketIdAllocator::allocate() {
  for (std::uint32_t tries = 0; tries < 65535; ++tries) {
    const std::uint16_t id = next_;
    next_ = static_cast<std::uint16_t>(next_ == 65535 ? 1 : next_ + 1);
    if (!used_.test(id)) {
      used_.set(id);
      return id;
    }
  }
  return std::nullopt;
}

void InflightWindow::add(std::uint16_t id, Bytes encoded, Time now) {
  entries_.push_back(Entry{id, std::move(encoded), now});
}

bool InflightWindow::ack(std::uint16_t id) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->id == id) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

std::size_t InflightWindow::resend(Time now, bool all, OutputQueue& out, std::size_t limit) {
  std::size_t n = 0;
  for (auto& e : entries_) {
    if (limit-- == 0) break;
    const bool due = retransmit_after_.count() > 0 && now - e.sent >= retransmit_after_;
    if (!all && !due) continue;
    e.packet[0] |= 0x08;  // DUP: this is a re-delivery [MQTT-3.3.1-1]
    e.sent = now;
    out.append(e.packet);
    ++n;
  }
  return n;
}

MqttStatus InboundAcks::received(std::uint16_t id) {
  for (const auto& a : pending_) {
    if (a.id == id && !a.released) return {};
  }
  if (pending_.size() >= capacity_) {
    return mqtt_error(ErrorCode::kInflightWindowFull, "too many unacknowledged QoS 1 PUBLISH packets");
  }
  pending_.push_back({id, false});
  return {};
}

MqttStatus InboundAcks::release(std::uint16_t id, OutputQueue& out) {
  bool found = false;
  for (auto& a : pending_) {
    if (a.id == id && !a.released) {
      a.released = true;
      found = true;
      break;
    }
  }
  if (!found) return mqtt_error(ErrorCode::kUnknownPacketId, "no unacknowledged PUBLISH with this id");
  while (!pending_.empty() && pending_.front().released) {
    ARMORED_TRY(out.append(Packet{PubAck{pending_.front().id}}));
    pending_.pop_front();
  }
  return {};
}

std::optional<Time> InflightWindow::next_due() const {
  if (retransmit_after_.count() == 0 || entries_.empty()) return std::nullopt;
  std::optional<Time> t;
  for (const auto& e : entries_) t = earliest(t, e.sent + retransmit_after_);
  return t;
}

}  // namespace armored::mqtt
