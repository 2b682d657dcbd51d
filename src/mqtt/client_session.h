#pragma once
// MQTT 3.1.1 client as a sans-I/O state machine: the application feeds the
// bytes it read and the current time, sends pending_output(), and reacts to
// events. The transitions on received packets are declared in one table
// (client_session.cpp); any packet not declared for the state closes the
// session with kUnexpectedPacket.
//
//   kIdle --connect()--> kConnecting --CONNACK 0--> kConnected
//   kConnecting --CONNACK refused / timeout--> kClosed
//   any --disconnect() / error / transport_closed()--> kClosed --connect()--> kConnecting

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mqtt/decoder.h"
#include "mqtt/session_common.h"

namespace armored::mqtt {

enum class ClientState : std::uint8_t { kIdle, kConnecting, kConnected, kClosed };

// Last will: published by the server if the connection drops without DISCONNECT.
struct ClientWill {
  std::string topic;
  Bytes message;
  QoS qos = QoS::kAtMostOnce;
  bool retain = false;
};

struct ClientOptions {
  std::string client_id;
  bool clean_session = true;
  std::uint16_t keep_alive_s = 60;  // 0 disables PINGREQ scheduling
  std::optional<std::string> username;
  std::optional<Bytes> password;
  std::optional<ClientWill> will;
  std::size_t max_inflight = 64;                           // outstanding QoS 1 PUBLISH
  // false: received QoS 1 PUBLISH packets are acknowledged on receipt.
  // true: the application calls acknowledge() when it is done with each
  // (e.g. once stored durably), so a crash before then means redelivery.
  bool deferred_acks = false;
  std::size_t max_pending_acks = 1024;  // received QoS 1 awaiting acknowledge()
  Duration retransmit_timeout = std::chrono::seconds(20);  // 0: re-send only on reconnect
  Duration connect_timeout = std::chrono::seconds(10);     // wait for CONNACK
  Duration ping_timeout = std::chrono::seconds(10);        // wait for PINGRESP
  Limits limits;
};

struct ClientEvent {
  enum class Kind : std::uint8_t {
    kConnected,     // CONNACK accepted; session_present set
    kMessage,       // PUBLISH from the server (QoS 1 acknowledged, unless deferred_acks)
    kPublishAcked,  // PUBACK for our QoS 1 PUBLISH packet_id
    kSubscribed,    // SUBACK for packet_id with codes
    kUnsubscribed,  // UNSUBACK for packet_id
    kClosed,        // session ended; error unset after our own disconnect()
  };
  Kind kind;
  std::uint16_t packet_id = 0;
  bool session_present = false;
  Publish message;                // views valid until the next receive()
  std::vector<SubAckCode> codes;  // kSubscribed
  std::optional<Error> error;     // kClosed
  ConnectReturnCode connack_code = ConnectReturnCode::kAccepted;  // kClosed after a refusal
};

class ClientSession {
 public:
  explicit ClientSession(ClientOptions options);

  // Queues CONNECT; from kIdle or kClosed (a reconnect: unacknowledged QoS 1
  // PUBLISH packets are re-sent with DUP after CONNACK [MQTT-4.4.0-1]).
  // Fails with kNotConnected in other states.
  MqttStatus connect(Time now);

  // Feeds bytes read from the transport. Returned events (and views in them)
  // are valid until the next call of receive() or on_timer().
  std::span<const ClientEvent> receive(ByteSpan bytes, Time now);

  // Runs keep-alive [MQTT-3.1.2-23], PINGRESP/CONNACK timeouts and QoS 1
  // retransmission due at `now`. Call it at next_deadline().
  std::span<const ClientEvent> on_timer(Time now);
  std::optional<Time> next_deadline() const;

  // Queues a PUBLISH (allowed once CONNECT is sent, section 3.1.4). Returns
  // the packet id (0 for QoS 0). `dup` marks an application-level re-send of
  // something an earlier connection may have delivered (e.g. a gateway's
  // spooled batch after a reconnect) [MQTT-3.3.1-1]; the session sets DUP
  // itself on its own retransmissions. Fails with kNotConnected,
  // kInflightWindowFull, kQos2Unsupported, kDupWithQos0 [MQTT-3.3.1-2] or an
  // encoding error.
  MqttResult<std::uint16_t> publish(std::string_view topic, ByteSpan payload, QoS qos, bool retain,
                                    Time now, bool dup = false);
  // With deferred_acks: releases the PUBACK for a received QoS 1 PUBLISH.
  // PUBACKs leave in arrival order [MQTT-4.6.0-2]. Fails with kNotConnected
  // or kUnknownPacketId (also for ids from an earlier connection: the
  // server redelivers those itself).
  MqttStatus acknowledge(std::uint16_t packet_id);
  // Queues SUBSCRIBE/UNSUBSCRIBE; returns the packet id awaiting SUBACK/UNSUBACK.
  // Fails with kNotConnected, kEmptySubscription, kInvalidTopicFilter or
  // kInvalidUtf8.
  MqttResult<std::uint16_t> subscribe(std::span<const TopicRequest> topics, Time now);
  MqttResult<std::uint16_t> unsubscribe(std::span<const std::string_view> filters, Time now);

  // Queues DISCONNECT and closes the session (in-flight entries are kept).
  MqttStatus disconnect(Time now);
  // The transport went away: close without sending anything.
  void transport_closed();

  ByteSpan pending_output() const { return out_.pending(); }
  void consume_output(std::size_t n) { out_.consume(n); }

  ClientState state() const { return state_; }
  std::size_t inflight() const { return inflight_.size(); }
  const ErrorCounters& counters() const { return counters_; }

  using Handler = MqttStatus (ClientSession::*)(const Packet&, Time);

 private:
  enum class Action : std::uint8_t { kConnect, kPublish, kSubscribe, kDisconnect };
  MqttStatus allow(Action a) const;
  void close(std::optional<Error> error);
  void fail(const Error& e);
  void sent(Time now) { last_tx_ = now; }
  ClientEvent& emit(ClientEvent::Kind kind);

  MqttStatus on_connack(const Packet& p, Time now);
  MqttStatus on_publish(const Packet& p, Time now);
  MqttStatus on_puback(const Packet& p, Time now);
  MqttStatus on_suback(const Packet& p, Time now);
  MqttStatus on_unsuback(const Packet& p, Time now);
  MqttStatus on_pingresp(const Packet& p, Time now);

  static const Transition<ClientState, Handler> kTable[];

  ClientOptions options_;
  ClientState state_ = ClientState::kIdle;
  Decoder decoder_;
  OutputQueue out_;
  PacketIdAllocator ids_;
  InflightWindow inflight_;
  InboundAcks inbound_acks_;
  // In-flight PUBLISH packets of earlier connections, re-sent after CONNACK.
  std::size_t carried_over_ = 0;
  struct PendingSubscription {
    std::uint16_t id;
    std::size_t topics;  // SUBACK must carry one code per filter [MQTT-3.8.4-5]
    bool subscribe;
  };
  std::vector<PendingSubscription> pending_subs_;
  std::vector<ClientEvent> events_;
  ErrorCounters counters_;
  Time last_tx_{};
  Time connect_sent_{};
  std::optional<Time> ping_sent_;
  Bytes scratch_;
};

}  // namespace armored::mqtt
