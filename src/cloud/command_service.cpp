#include "cloud/command_service.h"

#include <fmt/format.h>

#include <array>

#include "command/codec.h"
#include "common/log.h"

namespace armored::cloud {
namespace {

using nlohmann::json;

json error_json(AdminErrc code, std::string message) { return admin_error({code, std::move(message)}); }

json command_json(const store::Command& c) {
  json params = json::parse(c.params, nullptr, false);
  if (params.is_discarded()) params = json::object();
  return json{{"id", c.id},
              {"command", c.command},
              {"params", params},
              {"status", store::to_string(c.status)},
              {"reason", c.reason},
              {"created_at_ms", c.created_at_ms},
              {"updated_at_ms", c.updated_at_ms}};
}

}  // namespace

Result<command::Command, command::Refusal> command_from_json(std::string_view name, const json& params) {
  command::Command c;
  c.name = std::string(name);
  for (const auto& [key, v] : params.items()) {
    command::Value value;
    if (v.is_boolean()) value = command::Value::boolean(v.get<bool>());
    else if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        return unexpected(command::Refusal{command::Reason::kOutOfRange, command::printable(key)});
      }
      value = command::Value::integer(static_cast<std::int64_t>(v.get<std::uint64_t>()));
    } else if (v.is_number_integer()) value = command::Value::integer(v.get<std::int64_t>());
    else if (v.is_number_float()) value = command::Value::real(v.get<double>());
    else if (v.is_string()) value = command::Value::string(v.get<std::string>());
    else return unexpected(command::Refusal{command::Reason::kWrongType, command::printable(key)});
    c.params.push_back({key, std::move(value)});
  }
  command::canonical_sort(c.params);
  return c;
}

json params_to_json(const std::vector<command::Param>& params) {
  json j = json::object();
  for (const auto& p : params) {
    switch (p.value.kind) {
      case command::Value::Kind::kInt: j[p.name] = p.value.i; break;
      case command::Value::Kind::kFloat: j[p.name] = p.value.f; break;
      case command::Value::Kind::kBool: j[p.name] = p.value.b; break;
      case command::Value::Kind::kText: j[p.name] = p.value.text; break;
    }
  }
  return j;
}

CommandService::CommandService(const command::Schema& schema, e3::Opener& opener, store::Store& store,
                               Clock& clock, const AdminConfig& config,
                               std::map<std::string, Bytes, std::less<>> kids, Publish publish)
    : schema_(schema),
      validator_(schema),
      opener_(opener),
      store_(store),
      clock_(clock),
      config_(config),
      kids_(std::move(kids)),
      publish_(std::move(publish)) {}

std::int64_t CommandService::now_ms() const { return unix_ms(clock_.now()); }

Status CommandService::load() {
  auto sent = store_.commands_with_status(store::CommandStatus::kSent);
  if (!sent) return fail("commands left sent", sent.error());
  for (const auto& c : *sent) {
    if (!kids_.contains(c.device)) continue;  // no longer enrolled: nothing can answer
    outstanding_[static_cast<std::uint64_t>(c.id)] = {c.device, c.command, c.updated_at_ms};
  }
  return {};
}

void CommandService::audit(std::string peer, std::string reason, std::string detail) {
  store::SecurityEvent ev{now_ms(), store::EventKind::kCommandRefused, std::move(reason), std::move(peer),
                          std::move(detail)};
  if (auto r = store_.record_events(std::span<const store::SecurityEvent>(&ev, 1)); !r) {
    spdlog::error("cloud: cannot record command refusal: {}", r.error().message);
  }
}

json CommandService::handle(const AdminRequest& r) {
  return r.op == AdminRequest::Op::kSend ? send(r) : status(r);
}

json CommandService::send(const AdminRequest& r) {
  auto kid = kids_.find(r.device);
  if (kid == kids_.end()) return error_json(AdminErrc::kUnknownDevice, "no enrolled device " + r.device);
  const std::string& type = schema_.default_device_type();

  // Validate again: the CLI did, but the cloud trusts only its own schema copy.
  auto cmd = command_from_json(r.command, r.params);
  Result<void, command::Refusal> checked = cmd ? validator_.check(type, *cmd)
                                               : Result<void, command::Refusal>(unexpected(cmd.error()));
  const std::string params_text =
      cmd ? params_to_json(cmd->params).dump(-1, ' ', false, json::error_handler_t::replace) : std::string("{}");
  const std::int64_t now = now_ms();
  if (!checked) {
    ++counters_.refused_by_cloud;
    const command::Refusal& why = checked.error();
    store::Command row{0, r.device, command::printable(r.command, 64), params_text,
                       store::CommandStatus::kFailed, "cloud: " + command::to_string(why), now, now};
    auto id = store_.add_command(row);
    audit("cloud", command::to_string(why.reason),
          fmt::format("device {} command {} refused before sending: {}", r.device, command::printable(r.command),
                      command::to_string(why)));
    json j = error_json(AdminErrc::kInvalidCommand, command::to_string(why));
    j["reason"] = command::to_string(why.reason);
    if (id) j["id"] = *id;
    return j;
  }
  auto route = routes_.find(r.device);
  if (route == routes_.end() && !elsewhere_.deliver) {
    ++counters_.no_route;
    return error_json(AdminErrc::kNoRoute, "device " + r.device + " has not been seen since the cloud started");
  }
  if (outstanding_.size() >= config_.max_outstanding) {
    return error_json(AdminErrc::kInternal, "too many commands awaiting an answer");
  }
  store::Command row{0, r.device, cmd->name, params_text, store::CommandStatus::kPending, "", now, now};
  auto id = store_.add_command(row);
  if (!id) return error_json(AdminErrc::kInternal, "cannot store the command: " + id.error().message);
  cmd->id = static_cast<std::uint64_t>(*id);
  cmd->issued_at_ms = now;

  auto give_up = [&](std::string why) {
    ++counters_.seal_failed;
    (void)store_.set_command_status(*id, store::CommandStatus::kFailed, why, now_ms());
    json j = error_json(AdminErrc::kInternal, why);
    j["id"] = *id;
    return j;
  };
  auto plain = command::encode_command(*cmd);
  if (!plain) return give_up(std::string("encode: ") + plain.error().message);
  if (elsewhere_.refresh_device) elsewhere_.refresh_device(kid->second);
  std::array<std::uint8_t, 2048> sealed{};
  auto n = opener_.seal_command(kid->second, *plain, sealed);
  if (!n) return give_up(std::string("seal: ") + e3::to_string(n.error().code));
  const ByteSpan payload(sealed.data(), *n);
  std::string via;
  if (route != routes_.end() && publish_(route->second, payload)) {
    via = route->second;
  } else if (elsewhere_.deliver && elsewhere_.deliver(r.device, payload)) {
    via = "(the front its gateway is connected to)";
  }
  if (via.empty()) {
    ++counters_.no_route;
    const std::string gw = route != routes_.end() ? route->second : std::string("unknown");
    (void)store_.set_command_status(*id, store::CommandStatus::kFailed, "no route: gateway " + gw + " not subscribed",
                                    now_ms());
    json j = error_json(AdminErrc::kNoRoute, "gateway " + gw + " is not connected and subscribed");
    j["id"] = *id;
    return j;
  }
  // kConflict: the answer was stored first (another front delivered it and
  // a worker committed the reply before this write); nothing is wrong.
  if (auto s = store_.set_command_status(*id, store::CommandStatus::kSent, "", now_ms());
      !s && s.error().code != store::StoreErrorCode::kConflict) {
    spdlog::error("cloud: command {} sent but its status not stored: {}", *id, s.error().message);
  }
  ++counters_.sent;
  outstanding_[cmd->id] = {r.device, cmd->name, now};
  return admin_ok({{"id", *id}, {"device", r.device}, {"command", cmd->name}, {"status", "sent"},
                   {"gateway", via}});
}

json CommandService::status(const AdminRequest& r) {
  if (!kids_.contains(r.device)) return error_json(AdminErrc::kUnknownDevice, "no enrolled device " + r.device);
  auto all = store_.commands_for(r.device, std::nullopt);
  if (!all) return error_json(AdminErrc::kInternal, "cannot read commands: " + all.error().message);
  json list = json::array();
  // Newest first.
  for (auto it = all->rbegin(); it != all->rend() && list.size() < r.limit; ++it) list.push_back(command_json(*it));
  return admin_ok({{"device", r.device}, {"commands", std::move(list)}});
}

void CommandService::saw_device(std::string_view device, std::string_view gateway) {
  auto it = routes_.find(device);
  if (it == routes_.end()) routes_.emplace(std::string(device), std::string(gateway));
  else if (it->second != gateway) it->second = std::string(gateway);
}

void CommandService::on_reply(const OpenedReply& opened, std::string_view gateway, bool from_elsewhere) {
  if (!from_elsewhere) saw_device(opened.device, gateway);
  const command::Reply& reply = opened.reply;
  auto it = outstanding_.find(reply.command_id);
  if (reply.command_id == 0 || it == outstanding_.end() || it->second.device != opened.device) {
    if (from_elsewhere) return;  // another front's command, or answered there
    ++counters_.unmatched_replies;
    // A refusal of something the device could not even decode is still worth recording.
    if (reply.outcome == command::Outcome::kRefused) {
      audit(opened.device, command::to_string(reply.reason),
            fmt::format("device {} refused command id {} (no such command outstanding): {}", opened.device,
                        reply.command_id, command::to_string(reply.reason)));
    }
    return;
  }
  // The outcome reaches the database with the reply itself (reply_row, in
  // the batch that stores it), so it is recorded whichever process opened
  // the reply, even when the front that sent the command is gone.
  const Outstanding out = it->second;
  outstanding_.erase(it);
  if (reply.outcome == command::Outcome::kAccepted) {
    ++counters_.acknowledged;
    return;
  }
  ++counters_.refused_by_device;
  const std::string reason = command::to_string(reply.reason);
  audit(opened.device, reason,
        fmt::format("device {} refused command {} {}: {}", opened.device, reply.command_id, out.name, reason));
}

store::ReplyRow reply_row(const OpenedReply& opened, std::int64_t received_at_ms) {
  const command::Reply& reply = opened.reply;
  store::ReplyRow row;
  row.device = opened.device;
  row.epoch = opened.epoch;
  row.seq = opened.seq;
  // Ids beyond int64 match no command (the store's ids are positive int64).
  row.command_id = reply.command_id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                       ? 0
                       : static_cast<std::int64_t>(reply.command_id);
  row.received_at_ms = received_at_ms;
  if (reply.outcome == command::Outcome::kAccepted) {
    row.outcome = store::CommandStatus::kAcknowledged;
    if (!reply.result.empty()) {
      row.reason = params_to_json(reply.result).dump(-1, ' ', false, json::error_handler_t::replace);
    }
  } else {
    row.outcome = store::CommandStatus::kFailed;
    row.reason = std::string("device: ") + command::to_string(reply.reason);
  }
  return row;
}

void CommandService::expire_due() {
  const std::int64_t now = now_ms();
  const std::int64_t limit = std::chrono::duration_cast<std::chrono::milliseconds>(config_.ack_timeout).count();
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (now - it->second.sent_at_ms < limit) {
      ++it;
      continue;
    }
    // Refused (kConflict) when the answer was stored by another process
    // (a worker of the scaled cloud) and never reached this one: not expired.
    if (store_.set_command_status(static_cast<std::int64_t>(it->first), store::CommandStatus::kExpired,
                                  "no answer within " + std::to_string(config_.ack_timeout.count()) + " s", now)) {
      ++counters_.expired;
    }
    it = outstanding_.erase(it);
  }
  // Commands another process sent and can no longer expire (a front of a
  // scaled cloud that died): any process expires them once they are twice
  // as old as the timeout, leaving each sender the first say on its own.
  if (now - last_sweep_ms_ >= kSweepIntervalMs) {
    last_sweep_ms_ = now;
    auto n = store_.expire_commands(now - 2 * limit,
                                    "no answer within " + std::to_string(config_.ack_timeout.count()) +
                                        " s (the process that sent it is gone)",
                                    now);
    if (n && *n > 0) {
      counters_.expired += *n;
      spdlog::info("cloud: {} command(s) sent by another process expired unanswered", *n);
    }
  }
}

}  // namespace armored::cloud
