// `armored e3 inspect HEX|-`: prints the header fields of an E3 message (or
// of each message in a batch) without any keys, for debugging at a gateway.

#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "common/hex.h"
#include "e3/announcement.h"
#include "e3/batch.h"
#include "e3/wire.h"

namespace {

using armored::Bytes;
using armored::ByteSpan;
using nlohmann::json;
namespace e3 = armored::e3;

std::string type_name(e3::MessageType t) {
  switch (t) {
    case e3::MessageType::kUplink: return "reading";
    case e3::MessageType::kDownlink: return "command";
    case e3::MessageType::kAnnouncement: return "epoch_announcement";
  }
  return "unknown";
}

[[noreturn]] void malformed(const e3::E3Error& e) {
  throw armored::cli::Failure(e);
}

json describe(ByteSpan msg) {
  auto h = e3::parse_header(msg);
  if (!h) malformed(h.error());
  json j;
  j["type"] = type_name(h->type);
  j["key_id"] = armored::to_hex(h->kid);
  j["epoch_id"] = h->epoch_id;
  j["header_bytes"] = h->header_size;
  j["total_bytes"] = msg.size();
  if (h->type == e3::MessageType::kAnnouncement) {
    auto a = e3::parse_announcement(msg);
    if (!a) malformed(a.error());
    j["epoch"] = a->fields.epoch;
    j["algorithm"] = std::string(armored::crypto::name_of(a->fields.alg));
    j["algorithm_id"] = static_cast<int>(a->fields.alg);
    j["cloud_key_id"] = armored::to_hex(a->fields.cloud_key_id);
    j["ephemeral_public_key"] = armored::to_hex(a->fields.ephemeral_public);
    j["signature"] = "ES256, not verified (needs the device's identity key)";
    j["body_bytes"] = h->body.size();
  } else {
    j["partial_iv"] = armored::to_hex(h->partial_iv);
    j["sequence"] = h->sequence;
    j["ciphertext_and_tag_bytes"] = h->body.size();
    // The AEAD is fixed per epoch by the signed announcement, not per envelope.
    j["algorithm"] = "not signalled (set by the epoch announcement)";
    if (h->body.size() >= 16) j["plaintext_bytes_if_16_byte_tag"] = h->body.size() - 16;
    if (h->body.size() >= 8) j["plaintext_bytes_if_8_byte_tag"] = h->body.size() - 8;
  }
  return j;
}

void print_text(const json& j, const std::string& indent) {
  for (const auto& [k, v] : j.items()) {
    std::cout << indent << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
}

}  // namespace

namespace armored::cli {

void add_e3(CLI::App& app, Context& ctx) {
  auto* e3cmd = app.add_subcommand("e3", "End-to-end sealed envelopes (E3)");
  e3cmd->require_subcommand(1);
  auto* inspect = e3cmd->add_subcommand("inspect", "Print an E3 message's header fields (no keys needed)");
  static std::string input;
  inspect->add_option("message", input, "The message in hex, or - to read hex from stdin")->required();
  inspect->callback([&ctx] {
    std::string hex = input;
    if (hex == "-") hex.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    std::erase_if(hex, [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
    auto bytes = armored::from_hex(hex);
    if (!bytes || bytes->empty()) throw armored::cli::UsageError("e3 inspect: input is not hex");
    json out;
    if (e3::is_batch(*bytes)) {
      auto parts = e3::decode_batch(*bytes, {.max_messages = 255, .max_message_size = 65535});
      if (!parts) malformed(parts.error());
      out["batch"] = json::array();
      for (ByteSpan m : *parts) out["batch"].push_back(describe(m));
    } else {
      out = describe(*bytes);
    }
    if (ctx.json) {
      std::cout << out.dump() << "\n";
    } else if (out.contains("batch")) {
      std::cout << "batch: " << out["batch"].size() << " messages\n";
      for (std::size_t i = 0; i < out["batch"].size(); ++i) {
        std::cout << "message " << i << ":\n";
        print_text(out["batch"][i], "  ");
      }
    } else {
      print_text(out, "");
    }
  });
}

}  // namespace armored::cli
