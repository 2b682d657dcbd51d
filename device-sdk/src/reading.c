/* The 52-byte reading (docs/telemetry-reading.md); offsets beside each field
 * so the code reads like the table there. */

#include <string.h>

#include "armored_device.h"

#define RESERVED_OFFSET 45 /* bytes 45..51 are reserved, zero */
#define RHYTHM_MAX 6       /* noise */
#define POSTURE_MAX 5      /* right side */
#define FLAGS_DEFINED 0x007Fu

static uint8_t *u8(uint8_t *p, uint8_t v) { *p = v; return p + 1; }
static uint8_t *u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return p + 2; }
static uint8_t *u32(uint8_t *p, uint32_t v) { return u16(u16(p, (uint16_t)(v >> 16)), (uint16_t)v); }
static uint16_t g16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

void armored_reading_encode(const armored_reading *r, uint8_t out[ARMORED_READING_SIZE]) {
  uint8_t *p = out;
  p = u32(p, r->timestamp);                       /*  0 */
  p = u16(p, r->heart_rate_dbpm);                 /*  4 */
  p = u16(p, r->heart_rate_min_dbpm);             /*  6 */
  p = u16(p, r->heart_rate_max_dbpm);             /*  8 */
  p = u8(p, r->spo2_pct);                         /* 10 */
  p = u8(p, r->spo2_min_pct);                     /* 11 */
  p = u16(p, r->perfusion_index_cpct);            /* 12 */
  p = u8(p, r->respiration_rate);                 /* 14 */
  p = u8(p, r->ecg_rhythm);                       /* 15 */
  p = u16(p, r->ecg_rr_mean_ms);                  /* 16 */
  p = u16(p, r->ecg_hrv_rmssd_ms);                /* 18 */
  p = u16(p, r->ecg_pr_ms);                       /* 20 */
  p = u16(p, r->ecg_qrs_ms);                      /* 22 */
  p = u16(p, r->ecg_qtc_ms);                      /* 24 */
  p = u16(p, (uint16_t)r->ecg_st_uv);             /* 26 */
  p = u8(p, r->ecg_ectopic_beats);                /* 28 */
  p = u8(p, r->ecg_quality_pct);                  /* 29 */
  p = u16(p, (uint16_t)r->skin_temp_cdegc);       /* 30 */
  p = u16(p, r->activity_mg);                     /* 32 */
  p = u16(p, r->steps);                           /* 34 */
  p = u8(p, r->posture);                          /* 36 */
  p = u8(p, r->battery_pct);                      /* 37 */
  p = u16(p, r->battery_mv);                      /* 38 */
  p = u16(p, r->window_s);                        /* 40 */
  p = u16(p, r->flags);                           /* 42 */
  p = u8(p, (uint8_t)r->rssi_dbm);                /* 44 */
  memset(p, 0, ARMORED_READING_SIZE - RESERVED_OFFSET);
}

armored_status armored_reading_decode(const uint8_t *in, size_t len, armored_reading *r) {
  if (len != ARMORED_READING_SIZE) return ARMORED_E_MALFORMED;
  for (size_t i = RESERVED_OFFSET; i < ARMORED_READING_SIZE; ++i) {
    if (in[i] != 0) return ARMORED_E_MALFORMED;
  }
  if (in[15] > RHYTHM_MAX || in[36] > POSTURE_MAX || (g16(in + 42) & ~FLAGS_DEFINED) != 0) return ARMORED_E_MALFORMED;
  r->timestamp = ((uint32_t)g16(in) << 16) | g16(in + 2);
  r->heart_rate_dbpm = g16(in + 4);
  r->heart_rate_min_dbpm = g16(in + 6);
  r->heart_rate_max_dbpm = g16(in + 8);
  r->spo2_pct = in[10];
  r->spo2_min_pct = in[11];
  r->perfusion_index_cpct = g16(in + 12);
  r->respiration_rate = in[14];
  r->ecg_rhythm = in[15];
  r->ecg_rr_mean_ms = g16(in + 16);
  r->ecg_hrv_rmssd_ms = g16(in + 18);
  r->ecg_pr_ms = g16(in + 20);
  r->ecg_qrs_ms = g16(in + 22);
  r->ecg_qtc_ms = g16(in + 24);
  r->ecg_st_uv = (int16_t)g16(in + 26);
  r->ecg_ectopic_beats = in[28];
  r->ecg_quality_pct = in[29];
  r->skin_temp_cdegc = (int16_t)g16(in + 30);
  r->activity_mg = g16(in + 32);
  r->steps = g16(in + 34);
  r->posture = in[36];
  r->battery_pct = in[37];
  r->battery_mv = g16(in + 38);
  r->window_s = g16(in + 40);
  r->flags = g16(in + 42);
  r->rssi_dbm = (int8_t)in[44];
  return ARMORED_OK;
}

armored_status armored_provisioning_parse(const uint8_t *in, size_t len, armored_provisioning *out) {
  memset(out, 0, sizeof *out);
  if (len < 5 || in[0] != 'A' || in[1] != 'P' || in[2] != 1 || (in[3] & ~1u) != 0) return ARMORED_E_MALFORMED;
  size_t pos = 4;
  const size_t kid_len = in[pos++];
  if (kid_len < 1 || kid_len > ARMORED_KID_MAX || len - pos < kid_len + 1) return ARMORED_E_MALFORMED;
  memcpy(out->kid, in + pos, kid_len);
  out->kid_len = (uint8_t)kid_len;
  pos += kid_len;
  const size_t ckid_len = in[pos++];
  if (ckid_len < 1 || ckid_len > ARMORED_CLOUD_KEY_ID_MAX || len - pos < ckid_len) return ARMORED_E_MALFORMED;
  memcpy(out->cloud_key_id, in + pos, ckid_len);
  out->cloud_key_id_len = (uint8_t)ckid_len;
  pos += ckid_len;
  const size_t rest = (in[3] & 1u) ? 65 + 32 : 65;
  if (len - pos != rest || in[pos] != 0x04) return ARMORED_E_MALFORMED;
  memcpy(out->cloud_public_key, in + pos, 65);
  if (in[3] & 1u) {
    memcpy(out->identity_scalar, in + pos + 65, 32);
    out->has_identity_scalar = 1;
  }
  return ARMORED_OK;
}

/* Reads the CBOR unsigned integer head at in[*pos]; 0 if it is not one. */
static int read_uint(const uint8_t *in, size_t len, size_t *pos, uint64_t *v) {
  if (*pos >= len || (in[*pos] >> 5) != 0) return 0;
  const uint8_t info = in[*pos] & 31u;
  size_t n = info < 24 ? 0 : info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 99;
  if (n == 99 || len - *pos - 1 < n) return 0;
  uint64_t x = info < 24 ? info : 0;
  for (size_t i = 0; i < n; ++i) x = (x << 8) | in[*pos + 1 + i];
  *pos += 1 + n;
  *v = x;
  return 1;
}

armored_status armored_command_id(const uint8_t *pt, size_t len, uint64_t *id_out) {
  size_t pos = 4;
  uint64_t key = 0, kind = 0, id = 0;
  if (len < 4 || pt[0] != 0xd9 || pt[1] != 0xd9 || pt[2] != 0xf7 || (pt[3] >> 5) != 5 || (pt[3] & 31u) > 23) {
    return ARMORED_E_MALFORMED;
  }
  if (!read_uint(pt, len, &pos, &key) || key != 0 || !read_uint(pt, len, &pos, &kind) || kind != 1 ||
      !read_uint(pt, len, &pos, &key) || key != 1 || !read_uint(pt, len, &pos, &id) || id == 0) {
    return ARMORED_E_MALFORMED;
  }
  *id_out = id;
  return ARMORED_OK;
}

static size_t put_uint(uint8_t *p, uint8_t major, uint64_t v) {
  const uint8_t mt = (uint8_t)(major << 5);
  if (v < 24) {
    p[0] = (uint8_t)(mt | v);
    return 1;
  }
  const size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
  p[0] = (uint8_t)(mt | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  for (size_t i = 0; i < n; ++i) p[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return 1 + n;
}

armored_status armored_reply_encode(uint64_t command_id, const char *reason, uint8_t *out, size_t out_cap,
                                    size_t *out_len) {
  const size_t reason_len = reason ? strlen(reason) : 0;
  if (reason && (reason_len == 0 || reason_len > 64)) return ARMORED_E_BAD_CONFIG;
  if (out_cap < 3 + 1 + 2 + 9 + 2 + 2 + 2 + reason_len) return ARMORED_E_BUFFER_TOO_SMALL;
  size_t n = 0;
  out[n++] = 0xd9;
  out[n++] = 0xd9;
  out[n++] = 0xf7;
  out[n++] = reason ? 0xa4 : 0xa3;
  out[n++] = 0x00; /* kind: reply */
  out[n++] = 0x02;
  out[n++] = 0x01; /* id */
  n += put_uint(out + n, 0, command_id);
  out[n++] = 0x05; /* outcome */
  out[n++] = reason ? 0x01 : 0x00;
  if (reason) {
    out[n++] = 0x06;
    n += put_uint(out + n, 3, reason_len);
    memcpy(out + n, reason, reason_len);
    n += reason_len;
  }
  *out_len = n;
  return ARMORED_OK;
}
