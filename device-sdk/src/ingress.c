/* The device side of the gateway's datagram protocol (docs/e3-protocol.md
 * section 9.1): parsing answers, and the outbox of messages sent and not yet
 * answered "spooled". */

#include <string.h>

#include "armored_device.h"

size_t armored_answer_header_size(uint8_t flags) {
  const unsigned type = flags >> 6;
  const size_t kid = ((flags >> 3) & 7u) + 1;
  const size_t piv = flags & 7u;
  if (type == 0) {
    if (piv < 1 || piv > 5) return 0;
  } else if (type == 2) {
    if (piv != 0) return 0;
  } else {
    return 0; /* downlink or reserved: never answered */
  }
  return 2 + kid + piv;
}

/* Checks a whole answer datagram and counts its entries. 9.1: "A device
 * MUST drop (and count) an answer that is malformed", all or nothing, so
 * nothing is acted on before this has passed. */
static armored_status check_answers(const uint8_t *d, size_t len, size_t *count_out) {
  if (len == 0 || d[0] < ARMORED_ANSWER_SPOOLED || d[0] > ARMORED_ANSWER_PACKED) return ARMORED_E_NOT_ANSWER;
  if (d[0] != ARMORED_ANSWER_PACKED) {
    /* single = kind || header, exactly 1 + header_size bytes */
    if (len < 2) return ARMORED_E_MALFORMED;
    const size_t hs = armored_answer_header_size(d[1]);
    if (hs == 0 || len != 1 + hs) return ARMORED_E_MALFORMED;
    *count_out = 1;
    return ARMORED_OK;
  }
  /* packed = 0xC3 || entry{1..}, at most 1200 bytes; a 0xC3 entry kind is malformed */
  if (len > ARMORED_PACKED_ANSWER_MAX || len < 2) return ARMORED_E_MALFORMED;
  size_t pos = 1, n = 0;
  while (pos < len) {
    const uint8_t kind = d[pos++];
    if (kind != ARMORED_ANSWER_SPOOLED && kind != ARMORED_ANSWER_REFUSED) return ARMORED_E_MALFORMED;
    if (pos == len) return ARMORED_E_MALFORMED;
    const size_t hs = armored_answer_header_size(d[pos]);
    if (hs == 0 || len - pos < hs) return ARMORED_E_MALFORMED;
    ++n;
    pos += hs;
  }
  *count_out = n;
  return ARMORED_OK;
}

/* Entry i of a datagram check_answers accepted. */
static size_t next_entry(const uint8_t *d, size_t len, size_t pos, armored_answer *a) {
  if (pos == 0 && d[0] != ARMORED_ANSWER_PACKED) {
    a->kind = d[0];
    a->header = d + 1;
    a->header_len = (uint8_t)(len - 1);
    return len;
  }
  if (pos == 0) pos = 1;
  a->kind = d[pos];
  a->header = d + pos + 1;
  a->header_len = (uint8_t)armored_answer_header_size(d[pos + 1]);
  return pos + 1 + a->header_len;
}

armored_status armored_parse_answers(const uint8_t *d, size_t len, armored_answer *out, size_t out_cap,
                                     size_t *count_out) {
  size_t n = 0;
  const armored_status st = check_answers(d, len, &n);
  if (st != ARMORED_OK) return st;
  if (n > out_cap) return ARMORED_E_BUFFER_TOO_SMALL;
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) pos = next_entry(d, len, pos, &out[i]);
  *count_out = n;
  return ARMORED_OK;
}

void armored_outbox_init(armored_outbox *ob, armored_outbox_slot *slots, size_t slot_count, uint32_t retry_s) {
  memset(ob, 0, sizeof *ob);
  ob->slots = slots;
  ob->slot_count = slot_count;
  ob->retry_s = retry_s ? retry_s : 5;
  for (size_t i = 0; i < slot_count; ++i) slots[i].len = 0;
}

static void send_slot(armored_outbox *ob, const armored_ctx *ctx, armored_outbox_slot *s, int64_t now) {
  (void)ctx->platform->send(ctx->platform->user, s->msg, s->len);
  ++ob->sends;
  /* Each re-send waits twice as long, up to 16x: a late answer is not a loss. */
  const unsigned shift = s->sends < 4 ? s->sends : 4;
  s->next_send = now + ((int64_t)ob->retry_s << shift);
  if (s->sends < 255) ++s->sends;
}

armored_status armored_outbox_send(armored_outbox *ob, const armored_ctx *ctx, const uint8_t *msg, size_t len) {
  if (len > ARMORED_SLOT_SIZE) return ARMORED_E_BUFFER_TOO_SMALL;
  if (len < 3 || armored_answer_header_size(msg[0]) == 0 || armored_answer_header_size(msg[0]) >= len) {
    return ARMORED_E_MALFORMED;
  }
  if (!ctx->platform->send) return ARMORED_E_BAD_CONFIG;
  for (size_t i = 0; i < ob->slot_count; ++i) {
    armored_outbox_slot *s = &ob->slots[i];
    if (s->len != 0) continue;
    memcpy(s->msg, msg, len);
    s->len = (uint16_t)len;
    s->sends = 0;
    send_slot(ob, ctx, s, ctx->platform->now(ctx->platform->user));
    return ARMORED_OK;
  }
  return ARMORED_E_FULL;
}

void armored_outbox_poll(armored_outbox *ob, const armored_ctx *ctx) {
  const int64_t now = ctx->platform->now(ctx->platform->user);
  for (size_t i = 0; i < ob->slot_count; ++i) {
    armored_outbox_slot *s = &ob->slots[i];
    if (s->len != 0 && now >= s->next_send) send_slot(ob, ctx, s, now);
  }
}

size_t armored_outbox_pending(const armored_outbox *ob) {
  size_t n = 0;
  for (size_t i = 0; i < ob->slot_count; ++i) n += ob->slots[i].len != 0;
  return n;
}

static armored_outbox_slot *find_slot(const armored_outbox *ob, const uint8_t *header, size_t header_len) {
  for (size_t i = 0; i < ob->slot_count; ++i) {
    armored_outbox_slot *s = &ob->slots[i];
    if (s->len > header_len && armored_answer_header_size(s->msg[0]) == header_len &&
        memcmp(s->msg, header, header_len) == 0) {
      return s;
    }
  }
  return NULL;
}

int armored_outbox_has(const armored_outbox *ob, const uint8_t *header, size_t header_len) {
  return find_slot(ob, header, header_len) != NULL;
}

armored_status armored_receive(armored_ctx *ctx, armored_outbox *ob, const uint8_t *d, size_t len, uint8_t *cmd_out,
                               size_t cmd_cap, armored_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (len > 0 && (d[0] >> 6) == 1) {
    armored_status st = armored_open_command(ctx, d, len, cmd_out, cmd_cap, &ev->command_len, &ev->command_seq);
    if (st == ARMORED_OK) ev->kind = ARMORED_EVENT_COMMAND;
    return st;
  }
  size_t n = 0;
  const armored_status st = check_answers(d, len, &n);
  if (st != ARMORED_OK) {
    if (st == ARMORED_E_MALFORMED) ++ob->malformed_answers;
    return st;
  }
  /* Walked in place, so a 1200-byte packed answer (up to 299 entries) needs
   * no buffer. */
  const int64_t now = ctx->platform->now(ctx->platform->user);
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    armored_answer a;
    pos = next_entry(d, len, pos, &a);
    armored_outbox_slot *s = find_slot(ob, a.header, a.header_len);
    if (!s) continue; /* answered already, or not ours */
    if (a.kind == ARMORED_ANSWER_SPOOLED) {
      s->len = 0;
      ++ev->spooled;
      ++ob->spooled;
    } else {
      s->next_send = now + (int64_t)ob->retry_s; /* refused: the spool is full, try later */
      ++ev->refused;
      ++ob->refused;
    }
  }
  ev->kind = ARMORED_EVENT_ANSWERS;
  return ARMORED_OK;
}
