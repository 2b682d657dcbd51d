#pragma once
// Device commands, cloud side. Runs on the network thread (it uses the E3
// opener, which lives there):
//   send:   validate again against the cloud's schema -> store -> encode
//           (command/codec.h) -> E3 seal for the device's kid -> publish
//           QoS 1 to the down topic of the gateway the device was last seen
//           through;
//   reply:  match an opened reply to its command -> acknowledged / failed;
//   expiry: a command not answered within ack_timeout becomes expired.
// Refusals, the cloud's own and the device's, go to the audit trail.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cloud/admin_config.h"
#include "cloud/admin_protocol.h"
#include "cloud/ingest.h"
#include "command/schema.h"
#include "command/validate.h"
#include "common/clock.h"
#include "e3/opener.h"
#include "store/store.h"

namespace armored::cloud {

struct CommandCounters {
  std::uint64_t sent = 0;
  std::uint64_t refused_by_cloud = 0;
  std::uint64_t no_route = 0;
  std::uint64_t seal_failed = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t refused_by_device = 0;
  std::uint64_t expired = 0;
  std::uint64_t unmatched_replies = 0;  // no outstanding command with that id for that device
};

class CommandService {
 public:
  // Publishes QoS 1 to armored/v1/<gateway>/down; false if no connection of
  // that gateway is subscribed to it.
  using Publish = std::function<bool(std::string_view gateway, ByteSpan payload)>;

  // `store` is this service's own connection (the storage thread has another);
  // `kids` maps device id -> E3 kid (the enrolment registry).
  CommandService(const command::Schema& schema, e3::Opener& opener, store::Store& store, Clock& clock,
                 const AdminConfig& config, std::map<std::string, Bytes, std::less<>> kids, Publish publish);

  // The fronts of a scaled cloud (docs/scale-out.md): the device's epoch
  // is read from the shared E3 state before sealing, and a device whose
  // gateway is connected to another front is reached through it.
  struct Elsewhere {
    std::function<void(ByteSpan kid)> refresh_device;
    // Hands a sealed command to the other fronts; false if it could not.
    std::function<bool(std::string_view device, ByteSpan payload)> deliver;
  };
  void set_elsewhere(Elsewhere elsewhere) { elsewhere_ = std::move(elsewhere); }

  // Takes up commands left sent by an earlier run, so their replies still match.
  Status load();

  // The admin socket's handler.
  nlohmann::json handle(const AdminRequest& request);

  // A reading or reply of `device` arrived through `gateway`: the route for its commands.
  void saw_device(std::string_view device, std::string_view gateway);
  // An opened reply; `gateway` relayed it. `from_elsewhere`: opened by a
  // worker of a scaled cloud and sent to every front; one that did not send
  // the command ignores it (the front that did records it).
  void on_reply(const OpenedReply& reply, std::string_view gateway, bool from_elsewhere = false);
  // The gateway `device` was last seen through, if any.
  const std::string* route(std::string_view device) const {
    auto it = routes_.find(device);
    return it == routes_.end() ? nullptr : &it->second;
  }
  // Marks commands unanswered past ack_timeout expired.
  void expire_due();

  const CommandCounters& counters() const { return counters_; }
  std::size_t outstanding() const { return outstanding_.size(); }

 private:
  struct Outstanding {
    std::string device;
    std::string name;
    std::int64_t sent_at_ms = 0;
  };
  nlohmann::json send(const AdminRequest& r);
  nlohmann::json status(const AdminRequest& r);
  void audit(std::string peer, std::string reason, std::string detail);
  std::int64_t now_ms() const;

  const command::Schema& schema_;
  command::Validator validator_;
  e3::Opener& opener_;
  store::Store& store_;
  Clock& clock_;
  AdminConfig config_;
  std::map<std::string, Bytes, std::less<>> kids_;
  Publish publish_;
  Elsewhere elsewhere_;
  std::map<std::string, std::string, std::less<>> routes_;  // device -> gateway last seen through
  std::map<std::uint64_t, Outstanding> outstanding_;       // command id -> what it was
  CommandCounters counters_;
  static constexpr std::int64_t kSweepIntervalMs = 10'000;
  std::int64_t last_sweep_ms_ = 0;
};

// Typed JSON params (bool, integer, float, string) as a command for the
// validator; a value of no declared kind is wrong_type, an integer beyond
// int64 out_of_range. Exposed for tests.
Result<command::Command, command::Refusal> command_from_json(std::string_view name, const nlohmann::json& params);
// The reverse, for the store and the CLI.
nlohmann::json params_to_json(const std::vector<command::Param>& params);
// An opened reply as the store keeps it (store::ReplyRow): its sequence
// number accounted for, and the outcome that settles its command.
store::ReplyRow reply_row(const OpenedReply& reply, std::int64_t received_at_ms);

}  // namespace armored::cloud
