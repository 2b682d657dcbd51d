#include "mqtt/server_session.h"

namespace armored::mqtt {

// Packets the server accepts, per state. The first packet must be CONNECT
// [MQTT-3.1.0-1]; a second CONNECT is not declared for kConnected
// [MQTT-3.1.0-2]. Everything undeclared closes the connection [MQTT-4.8.0-1].
const Transition<ServerState, ServerSession::Handler> ServerSession::kTable[] = {
    {ServerState::kAwaitConnect, PacketType::kConnect, ServerState::kConnected,
     &ServerSession::on_connect},
    {ServerState::kConnected, PacketType::kPublish, ServerState::kConnected,
     &ServerSession::on_publish},
    {ServerState::kConnected, PacketType::kPubAck, ServerState::kConnected,
     &ServerSession::on_puback},
    {ServerState::kConnected, PacketType::kSubscribe, ServerState::kConnected,
     &ServerSession::on_subscribe},
    {ServerState::kConnected, PacketType::kUnsubscribe, ServerState::kConnected,
     &ServerSession::on_unsubscribe},
    {ServerState::kConnected, PacketType::kPingReq, ServerState::kConnected,
     &ServerSession::on_pingreq},
    {ServerState::kConnected, PacketType::kDisconnect, ServerState::kClosed,
     &ServerSession::on_disconnect},
};

ServerSession::ServerSession(ServerOptions options, Time now)
    : options_(std::move(options)),
      decoder_(options_.limits),
      inflight_(options_.max_inflight, options_.retransmit_timeout),
      pending_acks_(options_.max_pending_acks),
      accepted_at_(now),
      last_rx_(now) {}

ServerEvent& ServerSession::emit(ServerEvent::Kind kind) {
  events_.push_back(ServerEvent{});
  events_.back().kind = kind;
  return events_.back();
}

// Ends the session once: callers are fail() (guarded by state) and the
// DISCONNECT handler (whose table row already moved the state to kClosed).
void ServerSession::finish(std::optional<Error> error) {
  state_ = ServerState::kClosed;
  emit(ServerEvent::Kind::kClosed).error = error;
}

void ServerSession::fail(const Error& e) {
  if (state_ == ServerState::kClosed) return;
  counters_.record(e.code);
  finish(e);
}

void ServerSession::close(Error reason) {
  events_.clear();
  fail(reason);
}

// Refuses a CONNECT with a CONNACK return code, then closes [MQTT-3.2.2-5].
void ServerSession::refuse(ConnectReturnCode code, const Error& e) {
  (void)out_.append(Packet{ConnAck{false, code}});  // session present 0 [MQTT-3.2.2-4]
  fail(e);
}

void ServerSession::handle_decode_error(const Error& e) {
  if (state_ == ServerState::kAwaitConnect) {
    if (e.code == ErrorCode::kUnsupportedProtocolLevel) {
      return refuse(ConnectReturnCode::kUnacceptableProtocolVersion, e);  // [MQTT-3.1.2-2]
    }
    if (e.code == ErrorCode::kInvalidClientId) {
      return refuse(ConnectReturnCode::kIdentifierRejected, e);  // [MQTT-3.1.3-9]
    }
  }
  fail(e);  // malformed: close without a reply [MQTT-4.8.0-1]
}

std::span<const ServerEvent> ServerSession::receive(ByteSpan bytes, Time now) {
  events_.clear();
  if (state_ == ServerState::kClosed) return events_;
  decoder_.feed(bytes);
  while (state_ != ServerState::kClosed) {
    auto next = decoder_.next();
    if (!next) {
      handle_decode_error(next.error());
      break;
    }
    if (!next->has_value()) break;
    const Packet& packet = **next;
    last_rx_ = now;  // any control packet resets the keep-alive timer
    const PacketType type = packet_type(packet);
    const auto* row = find_transition(kTable, state_, type);
    if (row == nullptr) {
      if (state_ == ServerState::kConnected && type == PacketType::kConnect) {
        fail(Error{ErrorCode::kSecondConnect, "second CONNECT on one connection [MQTT-3.1.0-2]"});
      } else if (state_ == ServerState::kAwaitConnect) {
        fail(Error{ErrorCode::kUnexpectedPacket, "first packet is not CONNECT [MQTT-3.1.0-1]"});
      } else {
        fail(Error{ErrorCode::kUnexpectedPacket, "packet not allowed from a client"});
      }
      break;
    }
    state_ = row->to;
    auto handled = (this->*row->handler)(packet, now);
    if (!handled) fail(handled.error());
  }
  return events_;
}

MqttStatus ServerSession::on_connect(const Packet& p, Time) {
  const auto& c = std::get<Connect>(p);
  if (c.client_id.empty() && !c.clean_session) {
    refuse(
        ConnectReturnCode::kIdentifierRejected,
        Error{ErrorCode::kInvalidClientId, "empty client id without clean session [MQTT-3.1.3-8]"});
    return {};
  }
  const ConnectReturnCode code =
      options_.authorize_connect ? options_.authorize_connect(c) : ConnectReturnCode::kAccepted;
  if (code != ConnectReturnCode::kAccepted) {
    refuse(code, Error{ErrorCode::kConnectionRefused, "CONNECT refused by policy"});
    return {};
  }
  client_id_.assign(c.client_id);
  keep_alive_s_ = c.keep_alive_s;
  if (options_.max_keep_alive_s > 0 && (keep_alive_s_ == 0 || keep_alive_s_ > options_.max_keep_alive_s)) {
    keep_alive_s_ = options_.max_keep_alive_s;
  }
  // Sessions are not kept across connections, so no session is present.
  ARMORED_TRY(out_.append(Packet{ConnAck{false, ConnectReturnCode::kAccepted}}));
  emit(ServerEvent::Kind::kConnected);
  return {};
}

MqttStatus ServerSession::on_publish(const Packet& p, Time) {
  const auto& m = std::get<Publish>(p);
  if (m.qos == QoS::kAtLeastOnce) ARMORED_TRY(pending_acks_.received(m.packet_id));
  emit(ServerEvent::Kind::kMessage).message = m;
  return {};
}

MqttStatus ServerSession::acknowledge(std::uint16_t packet_id) {
  if (state_ != ServerState::kConnected)
    return mqtt_error(ErrorCode::kNotConnected, "session is not connected");
  return pending_acks_.release(packet_id, out_);
}

MqttStatus ServerSession::on_puback(const Packet& p, Time) {
  const auto id = std::get<PubAck>(p).packet_id;
  if (!inflight_.ack(id)) {
    counters_.record(ErrorCode::kUnknownPacketId);  // late duplicate: harmless
    return {};
  }
  ids_.release(id);
  emit(ServerEvent::Kind::kDelivered).packet_id = id;
  return {};
}

MqttStatus ServerSession::on_subscribe(const Packet& p, Time) {
  const auto& s = std::get<Subscribe>(p);
  SubAck ack{s.packet_id, {}};  // same packet id [MQTT-3.8.4-2]
  auto& e = emit(ServerEvent::Kind::kSubscribed);
  e.packet_id = s.packet_id;
  for (const auto& t : s.topics) {
    SubAckCode code =
        options_.authorize_subscribe
            ? options_.authorize_subscribe(t.filter, t.qos)
            : (t.qos == QoS::kAtMostOnce ? SubAckCode::kGrantedQos0 : SubAckCode::kGrantedQos1);
    if (code == SubAckCode::kGrantedQos2)
      code = SubAckCode::kGrantedQos1;  // we deliver at most QoS 1
    ack.codes.push_back(code);          // one code per filter, in order [MQTT-3.9.3-1]
    if (code != SubAckCode::kFailure) e.granted.push_back({t.filter, static_cast<QoS>(code)});
  }
  return out_.append(Packet{std::move(ack)});  // [MQTT-3.8.4-1]
}

MqttStatus ServerSession::on_unsubscribe(const Packet& p, Time) {
  const auto& u = std::get<Unsubscribe>(p);
  auto& e = emit(ServerEvent::Kind::kUnsubscribed);
  e.packet_id = u.packet_id;
  for (auto f : u.filters) {
    if (!options_.authorize_unsubscribe || options_.authorize_unsubscribe(f))
      e.filters.push_back(f);
  }
  return out_.append(Packet{UnsubAck{u.packet_id}});  // even if nothing matched [MQTT-3.10.4-5]
}

MqttStatus ServerSession::on_pingreq(const Packet&, Time) {
  return out_.append(Packet{PingResp{}});  // [MQTT-3.12.4-1]
}

MqttStatus ServerSession::on_disconnect(const Packet&, Time) {
  finish(std::nullopt);  // will message discarded [MQTT-3.14.4-3]
  return {};
}

MqttResult<std::uint16_t> ServerSession::publish(std::string_view topic, ByteSpan payload, QoS qos,
                                                 bool retain, Time now) {
  if (state_ != ServerState::kConnected)
    return mqtt_error(ErrorCode::kNotConnected, "session is not connected");
  Publish m{topic, payload, qos, retain, false, 0};
  if (qos == QoS::kAtMostOnce) {
    ARMORED_TRY(out_.append(Packet{m}));
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
  return *id;
}

std::span<const ServerEvent> ServerSession::on_timer(Time now) {
  events_.clear();
  if (state_ == ServerState::kAwaitConnect && now - accepted_at_ >= options_.connect_timeout) {
    fail(Error{ErrorCode::kConnectTimeout, "no CONNECT within the connect timeout"});
  }
  if (state_ != ServerState::kConnected) return events_;
  if (keep_alive_s_ > 0 && now - last_rx_ >= std::chrono::milliseconds(keep_alive_s_ * 1500)) {
    fail(Error{ErrorCode::kKeepAliveTimeout,
               "nothing received for 1.5 x Keep Alive [MQTT-3.1.2-24]"});
    return events_;
  }
  (void)inflight_.resend(now, /*all=*/false, out_);
  return events_;
}

std::optional<Time> ServerSession::next_deadline() const {
  if (state_ == ServerState::kAwaitConnect) return accepted_at_ + options_.connect_timeout;
  if (state_ != ServerState::kConnected) return std::nullopt;
  std::optional<Time> t = inflight_.next_due();
  if (keep_alive_s_ > 0)
    t = earliest(t, last_rx_ + std::chrono::milliseconds(keep_alive_s_ * 1500));
  return t;
}

}  // namespace armored::mqtt
