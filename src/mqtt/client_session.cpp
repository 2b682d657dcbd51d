#include "mqtt/client_session.h"

namespace armored::mqtt {

// Packets the client accepts, per state. The first packet from the server
// must be CONNACK [MQTT-3.2.0-1]; nothing else is declared for kConnecting.
const Transition<ClientState, ClientSession::Handler> ClientSession::kTable[] = {
    {ClientState::kConnecting, PacketType::kConnAck, ClientState::kConnected,
     &ClientSession::on_connack},
    {ClientState::kConnected, PacketType::kPublish, ClientState::kConnected,
     &ClientSession::on_publish},
    {ClientState::kConnected, PacketType::kPubAck, ClientState::kConnected,
     &ClientSession::on_puback},
    {ClientState::kConnected, PacketType::kSubAck, ClientState::kConnected,
     &ClientSession::on_suback},
    {ClientState::kConnected, PacketType::kUnsubAck, ClientState::kConnected,
     &ClientSession::on_unsuback},
    {ClientState::kConnected, PacketType::kPingResp, ClientState::kConnected,
     &ClientSession::on_pingresp},
};

ClientSession::ClientSession(ClientOptions options)
    : options_(std::move(options)),
      decoder_(options_.limits),
      inflight_(options_.max_inflight, options_.retransmit_timeout),
      inbound_acks_(options_.max_pending_acks) {}

// Application actions allowed per state (the other half of the table).
MqttStatus ClientSession::allow(Action a) const {
  const bool open = state_ == ClientState::kConnecting || state_ == ClientState::kConnected;
  const bool ok = a == Action::kConnect
                      ? (state_ == ClientState::kIdle || state_ == ClientState::kClosed)
                      : open;
  if (!ok) return mqtt_error(ErrorCode::kNotConnected, "action not allowed in this session state");
  return {};
}

ClientEvent& ClientSession::emit(ClientEvent::Kind kind) {
  events_.push_back(ClientEvent{});
  events_.back().kind = kind;
  return events_.back();
}

void ClientSession::close(std::optional<Error> error) {
  if (state_ == ClientState::kClosed) return;
  state_ = ClientState::kClosed;
  ping_sent_.reset();
  emit(ClientEvent::Kind::kClosed).error = error;
}

void ClientSession::fail(const Error& e) {
  counters_.record(e.code);
  close(e);
}

MqttStatus ClientSession::connect(Time now) {
  ARMORED_TRY(allow(Action::kConnect));
  Connect c;
  c.client_id = options_.client_id;
  c.clean_session = options_.clean_session;
  c.keep_alive_s = options_.keep_alive_s;
  if (options_.username) c.username = *options_.username;
  if (options_.password) c.password = ByteSpan(*options_.password);
  if (options_.will) {
    c.will = Will{options_.will->topic, options_.will->message, options_.will->qos,
                  options_.will->retain};
  }
  out_.clear();
  ARMORED_TRY(out_.append(Packet{c}));
  decoder_ = Decoder(options_.limits);  // a new connection starts a new byte stream
  for (const auto& p : pending_subs_) ids_.release(p.id);
  pending_subs_.clear();  // SUBSCRIBE/UNSUBSCRIBE do not survive a connection
  inbound_acks_.clear();  // the server redelivers what we did not acknowledge
  carried_over_ = inflight_.size();
  state_ = ClientState::kConnecting;
  connect_sent_ = now;
  sent(now);
  return {};
}

std::span<const ClientEvent> ClientSession::receive(ByteSpan bytes, Time now) {
  events_.clear();
  if (state_ == ClientState::kIdle || state_ == ClientState::kClosed) return events_;
  decoder_.feed(bytes);
  while (state_ != ClientState::kClosed) {
    auto next = decoder_.next();
    if (!next) {
      fail(next.error());
      break;
    }
    if (!next->has_value()) break;
    const Packet& packet = **next;
    const auto* row = find_transition(kTable, state_, packet_type(packet));
    if (row == nullptr) {
      fail(Error{ErrorCode::kUnexpectedPacket,
                 state_ == ClientState::kConnecting
                     ? "first packet from server is not CONNACK [MQTT-3.2.0-1]"
                     : "packet not allowed in this session state"});
      break;
    }
    state_ = row->to;
    auto handled = (this->*row->handler)(packet, now);
    if (!handled) fail(handled.error());
  }
  return events_;
}

MqttStatus ClientSession::on_connack(const Packet& p, Time now) {
  const auto& a = std::get<ConnAck>(p);
  if (a.code != ConnectReturnCode::kAccepted) {
    fail(Error{ErrorCode::kConnectionRefused, "server refused CONNECT (see connack_code)"});
    events_.back().connack_code = a.code;
    return {};
  }
  emit(ClientEvent::Kind::kConnected).session_present = a.session_present;
  // Only what an earlier connection sent: a PUBLISH queued after connect()
  // (e.g. in 0-RTT data with the CONNECT) already went out on this one.
  if (inflight_.resend(now, /*all=*/true, out_, carried_over_) > 0) sent(now);
  return {};
}

MqttStatus ClientSession::on_publish(const Packet& p, Time now) {
  const auto& m = std::get<Publish>(p);
  if (m.qos == QoS::kAtLeastOnce && options_.deferred_acks) {
    ARMORED_TRY(inbound_acks_.received(m.packet_id));
    emit(ClientEvent::Kind::kMessage).message = m;
    return {};
  }
  emit(ClientEvent::Kind::kMessage).message = m;
  if (m.qos == QoS::kAtLeastOnce) {  // the client acknowledges on receipt [MQTT-4.3.2-2]
    ARMORED_TRY(out_.append(Packet{PubAck{m.packet_id}}));
    sent(now);
  }
  return {};
}

MqttStatus ClientSession::on_puback(const Packet& p, Time) {
  const auto id = std::get<PubAck>(p).packet_id;
  if (!inflight_.ack(id)) {
    // A late PUBACK for a re-sent packet is harmless: count it, keep going.
    counters_.record(ErrorCode::kUnknownPacketId);
    return {};
  }
  ids_.release(id);
  emit(ClientEvent::Kind::kPublishAcked).packet_id = id;
  return {};
}

MqttStatus ClientSession::on_suback(const Packet& p, Time) {
  const auto& a = std::get<SubAck>(p);
  for (auto it = pending_subs_.begin(); it != pending_subs_.end(); ++it) {
    if (it->id != a.packet_id || !it->subscribe) continue;
    if (a.codes.size() != it->topics) {
      return mqtt_error(ErrorCode::kInvalidReturnCode,
                        "SUBACK code count differs from topics [MQTT-3.8.4-5]");
    }
    pending_subs_.erase(it);
    ids_.release(a.packet_id);
    auto& e = emit(ClientEvent::Kind::kSubscribed);
    e.packet_id = a.packet_id;
    e.codes = a.codes;
    return {};
  }
  return mqtt_error(ErrorCode::kUnknownPacketId, "SUBACK for no pending SUBSCRIBE [MQTT-2.3.1-7]");
}

MqttStatus ClientSession::on_unsuback(const Packet& p, Time) {
  const auto id = std::get<UnsubAck>(p).packet_id;
  for (auto it = pending_subs_.begin(); it != pending_subs_.end(); ++it) {
    if (it->id != id || it->subscribe) continue;
    pending_subs_.erase(it);
    ids_.release(id);
    emit(ClientEvent::Kind::kUnsubscribed).packet_id = id;
    return {};
  }
  return mqtt_error(ErrorCode::kUnknownPacketId,
                    "UNSUBACK for no pending UNSUBSCRIBE [MQTT-2.3.1-7]");
}

MqttStatus ClientSession::on_pingresp(const Packet&, Time) {
  ping_sent_.reset();
  return {};
}

MqttResult<std::uint16_t> ClientSession::publish(std::string_view topic, ByteSpan payload, QoS qos,
                                                 bool retain, Time now, bool dup) {
  ARMORED_TRY(allow(Action::kPublish));
  if (dup && qos == QoS::kAtMostOnce)
    return mqtt_error(ErrorCode::kDupWithQos0, "DUP must be 0 for QoS 0 [MQTT-3.3.1-2]");
  Publish m{topic, payload, qos, retain, dup, 0};
  if (qos == QoS::kAtMostOnce) {
    ARMORED_TRY(out_.append(Packet{m}));
    sent(now);
    return std::uint16_t{0};
  }
  if (qos != QoS::kAtLeastOnce)
    return mqtt_error(ErrorCode::kQos2Unsupported, "QoS 2 PUBLISH not supported");
  if (inflight_.full())
    return mqtt_error(ErrorCode::kInflightWindowFull, "QoS 1 in-flight window full");
  auto id = ids_.allocate();
  if (!id) return mqtt_error(ErrorCode::kInflightWindowFull, "no free packet identifier");
  m.packet_id = *id;
  Bytes encoded;
  auto ok = append_packet(Packet{m}, encoded);
  if (!ok) {
    ids_.release(*id);
    return unexpected(ok.error());
  }
  out_.append(encoded);
  inflight_.add(*id, std::move(encoded), now);
  sent(now);
  return *id;
}

MqttStatus ClientSession::acknowledge(std::uint16_t packet_id) {
  if (state_ != ClientState::kConnected)
    return mqtt_error(ErrorCode::kNotConnected, "session is not connected");
  return inbound_acks_.release(packet_id, out_);
}

MqttResult<std::uint16_t> ClientSession::subscribe(std::span<const TopicRequest> topics, Time now) {
  ARMORED_TRY(allow(Action::kSubscribe));
  auto id = ids_.allocate();
  if (!id) return mqtt_error(ErrorCode::kInflightWindowFull, "no free packet identifier");
  Subscribe s{*id, {topics.begin(), topics.end()}};
  auto ok = out_.append(Packet{std::move(s)});
  if (!ok) {
    ids_.release(*id);
    return unexpected(ok.error());
  }
  pending_subs_.push_back({*id, topics.size(), true});
  sent(now);
  return *id;
}

MqttResult<std::uint16_t> ClientSession::unsubscribe(std::span<const std::string_view> filters,
                                                     Time now) {
  ARMORED_TRY(allow(Action::kSubscribe));
  auto id = ids_.allocate();
  if (!id) return mqtt_error(ErrorCode::kInflightWindowFull, "no free packet identifier");
  auto ok = out_.append(Packet{Unsubscribe{*id, {filters.begin(), filters.end()}}});
  if (!ok) {
    ids_.release(*id);
    return unexpected(ok.error());
  }
  pending_subs_.push_back({*id, filters.size(), false});
  sent(now);
  return *id;
}

MqttStatus ClientSession::disconnect(Time now) {
  ARMORED_TRY(allow(Action::kDisconnect));
  events_.clear();
  ARMORED_TRY(out_.append(Packet{Disconnect{}}));
  sent(now);
  close(std::nullopt);
  return {};
}

void ClientSession::transport_closed() {
  events_.clear();
  close(Error{ErrorCode::kNotConnected, "transport closed"});
}

std::span<const ClientEvent> ClientSession::on_timer(Time now) {
  events_.clear();
  if (state_ == ClientState::kConnecting && now - connect_sent_ >= options_.connect_timeout) {
    fail(Error{ErrorCode::kConnectTimeout, "no CONNACK within the connect timeout"});
  }
  if (state_ != ClientState::kConnected) return events_;
  if (ping_sent_ && now - *ping_sent_ >= options_.ping_timeout) {
    fail(Error{ErrorCode::kKeepAliveTimeout, "no PINGRESP within the ping timeout"});
    return events_;
  }
  if (inflight_.resend(now, /*all=*/false, out_) > 0) sent(now);
  const Duration keep_alive = std::chrono::seconds(options_.keep_alive_s);
  if (keep_alive.count() > 0 && !ping_sent_ && now - last_tx_ >= keep_alive) {
    (void)out_.append(Packet{PingReq{}});  // cannot fail: fixed two bytes
    sent(now);
    ping_sent_ = now;
  }
  return events_;
}

std::optional<Time> ClientSession::next_deadline() const {
  if (state_ == ClientState::kConnecting) return connect_sent_ + options_.connect_timeout;
  if (state_ != ClientState::kConnected) return std::nullopt;
  std::optional<Time> t = inflight_.next_due();
  if (ping_sent_) return earliest(t, *ping_sent_ + options_.ping_timeout);
  if (options_.keep_alive_s > 0)
    t = earliest(t, last_tx_ + std::chrono::seconds(options_.keep_alive_s));
  return t;
}

}  // namespace armored::mqtt
