// The device SDK's answer parser (C) against the gateway's own (C++,
// link/link.h) on arbitrary datagrams: both accept exactly the same
// inputs with the same entries, and applying an accepted answer to an outbox
// releases only messages whose header it echoes.
#include <array>
#include <cstdlib>
#include <cstring>

#include "armored_device.h"
#include "link/link.h"

using namespace armored;

namespace {
std::int64_t fake_now(void*) { return 1000; }
int fake_send(void*, const std::uint8_t*, std::size_t) { return 0; }
int fake_store(void*, const std::uint8_t*, std::size_t) { return 0; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static armored_answer c_out[link::kMaxAnswersPerDatagram];
  std::array<link::Answer, link::kMaxAnswersPerDatagram> cpp_out{};
  std::size_t n = 0;
  const armored_status st = armored_parse_answers(data, size, c_out, link::kMaxAnswersPerDatagram, &n);
  auto ref = link::parse_answers(ByteSpan(data, size), cpp_out);
  if ((st == ARMORED_OK) != static_cast<bool>(ref)) std::abort();
  if (!ref && (ref.error() == link::AnswerError::kNotAnswer) != (st == ARMORED_E_NOT_ANSWER)) std::abort();
  if (st != ARMORED_OK) return 0;
  if (n != *ref) std::abort();
  for (std::size_t i = 0; i < n; ++i) {
    if (c_out[i].kind != cpp_out[i].kind || c_out[i].header_len != cpp_out[i].header_bytes.size() ||
        c_out[i].header != cpp_out[i].header_bytes.data()) {
      std::abort();
    }
  }
  // An outbox holding the first answered message (plus a body) is released by it.
  const armored_platform platform = {nullptr, fake_now, fake_store, fake_send};
  armored_ctx ctx{};
  ctx.platform = &platform;
  armored_outbox_slot slots[2];
  armored_outbox ob;
  armored_outbox_init(&ob, slots, 2, 5);
  std::uint8_t msg[ARMORED_HEADER_MAX + 4];
  std::memcpy(msg, c_out[0].header, c_out[0].header_len);
  std::memset(msg + c_out[0].header_len, 0xee, 4);
  if (armored_outbox_send(&ob, &ctx, msg, c_out[0].header_len + 4u) != ARMORED_OK) std::abort();
  armored_event ev;
  if (armored_receive(&ctx, &ob, data, size, nullptr, 0, &ev) != ARMORED_OK) std::abort();
  // Released iff some entry echoing its header says spooled; entries after
  // the release match nothing.
  bool spooled = false;
  for (std::size_t i = 0; i < n; ++i) {
    spooled = spooled || (c_out[i].kind == ARMORED_ANSWER_SPOOLED && c_out[i].header_len == c_out[0].header_len &&
                          std::memcmp(c_out[i].header, c_out[0].header, c_out[0].header_len) == 0);
  }
  if (ev.spooled != (spooled ? 1u : 0u) || ev.spooled + ev.refused < 1 || ev.spooled + ev.refused > n) std::abort();
  if (spooled != (armored_outbox_pending(&ob) == 0)) std::abort();
  return 0;
}
