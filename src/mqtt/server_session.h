#pragma once
// MQTT 3.1.1 server side of one connection as a sans-I/O state machine. The
// application feeds bytes and `now`, sends pending_output(), and handles
// events. QoS 1 PUBLISH packets are handed over unacknowledged: the
// application calls acknowledge() when it is done with them (the cloud acks
// only once storage is durable), and PUBACKs leave in arrival order.
//
//   kAwaitConnect --CONNECT accepted--> kConnected --DISCONNECT--> kClosed
//   kAwaitConnect --CONNECT refused / other packet / timeout--> kClosed
//   kConnected --second CONNECT / undeclared packet / keep-alive expiry--> kClosed

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mqtt/decoder.h"
#include "mqtt/session_common.h"

namespace armored::mqtt {

enum class ServerState : std::uint8_t { kAwaitConnect, kConnected, kClosed };

struct ServerOptions {
  Limits limits;
  Duration connect_timeout = std::chrono::seconds(10);  // CONNECT must arrive within this
  // Server maximum for Keep Alive, in seconds (0: none). A CONNECT asking
  // for 0 (no keep-alive) or more than this gets this instead, as brokers
  // do: MQTT 3.1.1 has no way to tell the client, but the server may close
  // a connection silent for 1.5 x Keep Alive [MQTT-3.1.2-24], so an idle
  // client cannot hold its connection forever.
  std::uint16_t max_keep_alive_s = 0;
  std::size_t max_pending_acks = 1024;                  // inbound QoS 1 awaiting acknowledge()
  std::size_t max_inflight = 64;                        // outbound QoS 1 awaiting PUBACK
  Duration retransmit_timeout = std::chrono::seconds(20);
  // Decides a CONNECT (e.g. from the TLS identity). Default: accept.
  std::function<ConnectReturnCode(const Connect&)> authorize_connect;
  // ACL for each SUBSCRIBE filter: the granted code (kFailure to deny).
  // Grants above QoS 1 are lowered to QoS 1. Default: grant min(requested, 1).
  std::function<SubAckCode(std::string_view filter, QoS requested)> authorize_subscribe;
  // ACL for each UNSUBSCRIBE filter; false drops it from the event (the
  // UNSUBACK is sent regardless [MQTT-3.10.4-5]). Default: allow.
  std::function<bool(std::string_view filter)> authorize_unsubscribe;
};

struct ServerEvent {
  enum class Kind : std::uint8_t {
    kConnected,     // CONNECT accepted; client_id, keep_alive_s, username
    kMessage,       // PUBLISH received; QoS 1 awaits acknowledge(message.packet_id)
    kSubscribed,    // granted filters (denied ones omitted)
    kUnsubscribed,  // allowed filters
    kDelivered,     // the client acknowledged our QoS 1 PUBLISH packet_id
    kClosed,        // error unset after a clean DISCONNECT
  };
  Kind kind;
  Publish message;
  std::uint16_t packet_id = 0;
  std::vector<TopicRequest> granted;
  std::vector<std::string_view> filters;
  std::optional<Error> error;
};

class ServerSession {
 public:
  // `now` is when the transport connection was accepted.
  ServerSession(ServerOptions options, Time now);

  // Feeds bytes read from the transport. Events and the views in them are
  // valid until the next receive() or on_timer().
  std::span<const ServerEvent> receive(ByteSpan bytes, Time now);

  // Enforces the CONNECT timeout and keep-alive (1.5 x Keep Alive
  // [MQTT-3.1.2-24]) and re-sends due QoS 1 packets.
  std::span<const ServerEvent> on_timer(Time now);
  std::optional<Time> next_deadline() const;

  // Releases the PUBACK for a received QoS 1 PUBLISH. PUBACKs go out in the
  // order the PUBLISH packets arrived [MQTT-4.6.0-2], so one may wait for an
  // earlier one. Fails with kUnknownPacketId or kNotConnected.
  MqttStatus acknowledge(std::uint16_t packet_id);

  // Queues a PUBLISH to the client (subscriptions, downlink). Returns the
  // packet id (0 for QoS 0). Fails with kNotConnected, kInflightWindowFull,
  // kQos2Unsupported or an encoding error (e.g. kInvalidTopicName).
  MqttResult<std::uint16_t> publish(std::string_view topic, ByteSpan payload, QoS qos, bool retain,
                                    Time now);

  // Ends the session without a packet (e.g. the application refuses a topic);
  // `reason` is counted. The transport should be closed after pending_output().
  void close(Error reason);

  ByteSpan pending_output() const { return out_.pending(); }
  void consume_output(std::size_t n) { out_.consume(n); }

  ServerState state() const { return state_; }
  const std::string& client_id() const { return client_id_; }
  // The Keep Alive in force: the client's, capped by max_keep_alive_s.
  std::uint16_t keep_alive_s() const { return keep_alive_s_; }
  std::size_t pending_acks() const { return pending_acks_.size(); }
  const ErrorCounters& counters() const { return counters_; }

  using Handler = MqttStatus (ServerSession::*)(const Packet&, Time);

 private:
  void finish(std::optional<Error> error);
  void fail(const Error& e);
  void refuse(ConnectReturnCode code, const Error& e);
  ServerEvent& emit(ServerEvent::Kind kind);
  void handle_decode_error(const Error& e);

  MqttStatus on_connect(const Packet& p, Time now);
  MqttStatus on_publish(const Packet& p, Time now);
  MqttStatus on_puback(const Packet& p, Time now);
  MqttStatus on_subscribe(const Packet& p, Time now);
  MqttStatus on_unsubscribe(const Packet& p, Time now);
  MqttStatus on_pingreq(const Packet& p, Time now);
  MqttStatus on_disconnect(const Packet& p, Time now);

  static const Transition<ServerState, Handler> kTable[];

  ServerOptions options_;
  ServerState state_ = ServerState::kAwaitConnect;
  Decoder decoder_;
  OutputQueue out_;
  PacketIdAllocator ids_;
  InflightWindow inflight_;
  InboundAcks pending_acks_;
  std::vector<ServerEvent> events_;
  ErrorCounters counters_;
  std::string client_id_;
  std::uint16_t keep_alive_s_ = 0;
  Time accepted_at_;
  Time last_rx_;
};

}  // namespace armored::mqtt
