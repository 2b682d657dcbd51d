#ifndef ARMORED_DEVICE_H
#define ARMORED_DEVICE_H
/* The device end of E3 (docs/e3-protocol.md): starts epochs, seals readings,
 * opens the cloud's commands, persists its sequence reservation, and speaks
 * the UDP datagram protocol of the gateway (section 9.1).
 *
 * No heap, no OS, no global state: the caller owns every buffer and the
 * context; functions on different contexts may run concurrently, calls on one
 * context must not. The board supplies four things (device-sdk/PORTING.md):
 * random bytes (to the crypto backend), the time, durable storage of a
 * ARMORED_STATE_SIZE-byte state, and a way to send a datagram.
 *
 * Every function returns ARMORED_OK or one negative armored_status; on
 * failure, out-parameters are unspecified and the context is unchanged unless
 * stated. Stack use of every function is bounded (device-sdk/README.md gives
 * the measured peak). */

#include <stddef.h>
#include <stdint.h>

#include "armored_crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ARMORED_KID_MAX 8
#define ARMORED_CLOUD_KEY_ID_MAX 32
#define ARMORED_P256_POINT_SIZE 65
#define ARMORED_READING_SIZE 52
/* Longest E3 data header: flags, epoch id, 8-byte kid, 5-byte partial IV. */
#define ARMORED_HEADER_MAX 15
/* Bytes a sealed envelope of pt_len plaintext bytes may need. */
#define ARMORED_SEALED_MAX(pt_len) (ARMORED_HEADER_MAX + (pt_len) + 16)
/* Longest announcement: 8-byte kid, 32-byte cloud key id, epoch >= 2^16. */
#define ARMORED_ANNOUNCEMENT_MAX 202
/* Size of the persistent state the storage callback receives. */
#define ARMORED_STATE_SIZE 146

typedef enum armored_status {
  ARMORED_OK = 0,
  /* Caused by a peer's bytes (docs/e3-protocol.md section 11). */
  ARMORED_E_MALFORMED = -1,
  ARMORED_E_UNKNOWN_KEY_ID = -2,
  ARMORED_E_UNKNOWN_EPOCH = -3,
  ARMORED_E_AUTHENTICATION_FAILED = -4,
  ARMORED_E_REPLAYED = -5,
  ARMORED_E_TOO_OLD = -6,
  ARMORED_E_OVERSIZED = -7,
  /* Local. */
  ARMORED_E_ROTATION_REQUIRED = -8, /* no epoch, or it is too old / used up */
  ARMORED_E_PERSIST_FAILED = -9,    /* the storage callback failed */
  ARMORED_E_BUFFER_TOO_SMALL = -10,
  ARMORED_E_BAD_CONFIG = -11,       /* bad config, state or cloud key */
  ARMORED_E_CRYPTO = -12,           /* the crypto backend failed */
  ARMORED_E_NOT_ANSWER = -13,       /* a datagram that is no gateway answer */
  ARMORED_E_FULL = -14              /* no free outbox slot */
} armored_status;

/* Short name of a status ("malformed", "replayed", ...), for logs. */
const char *armored_status_name(armored_status s);

/* The board's services. All are called synchronously from inside the
 * library call that needs them. */
typedef struct armored_platform {
  void *user;
  /* Current Unix time in seconds (rotation by age). */
  int64_t (*now)(void *user);
  /* Durably stores the ARMORED_STATE_SIZE-byte state, replacing the
   * previous one atomically (e.g. two flash pages used alternately);
   * returns 0 only once the bytes survive a power loss. */
  int (*store)(void *user, const uint8_t *state, size_t len);
  /* Sends one datagram to the gateway; 0 if handed to the network. Only the
   * outbox calls it. */
  int (*send)(void *user, const uint8_t *datagram, size_t len);
} armored_platform;

typedef struct armored_config {
  const uint8_t *kid;              /* 1..8 bytes, from provisioning */
  size_t kid_len;
  const uint8_t *cloud_key_id;     /* 1..32 bytes, from provisioning */
  size_t cloud_key_id_len;
  const uint8_t *cloud_public_key; /* 65 bytes, 0x04 || x || y */
  armored_aead alg;                /* fixed per epoch by the announcement */
  uint32_t rotation_interval_s;    /* 0: 86400 */
  uint32_t rotation_messages;      /* 0: 2^20 */
  uint32_t reserve_ahead;          /* 0: 256 */
  uint16_t max_plaintext;          /* 0: 1024 (commands longer are refused) */
} armored_config;

/* One device. Allocate it anywhere (static, stack); the fields are private. */
typedef struct armored_ctx {
  armored_crypto crypto;
  const armored_platform *platform;
  uint8_t kid[ARMORED_KID_MAX];
  uint8_t kid_len;
  uint8_t cloud_key_id_len;
  uint8_t alg;           /* for the next epoch */
  uint8_t epoch_alg;     /* of the current epoch */
  uint8_t cloud_key_id[ARMORED_CLOUD_KEY_ID_MAX];
  uint8_t cloud_public[ARMORED_P256_POINT_SIZE];
  uint8_t ephemeral_public[ARMORED_P256_POINT_SIZE]; /* of the current epoch, to re-announce */
  uint8_t has_epoch;
  uint8_t window_any;
  uint8_t key_len, nonce_len, tag_len;
  uint16_t max_plaintext;
  uint32_t rotation_interval_s, rotation_messages, reserve_ahead;
  uint32_t epoch;        /* current (or last) epoch number */
  int64_t epoch_started; /* Unix seconds */
  uint64_t next_seq, reserved_until;
  uint64_t window_highest, window_bits; /* command replay window, W = 64 */
  uint8_t master_secret[32], master_salt[8];
  uint8_t device_key[32], cloud_key[32];
  uint8_t nonce_base[2][13]; /* per direction: the nonce of partial IV 0 */
} armored_ctx;

/* Sets up ctx from cfg (copied) and, when state_len > 0, from a state the
 * storage callback saved earlier: the next sequence number is then the
 * persisted reservation, so numbers possibly used before a reset are
 * skipped. crypto and platform must outlive ctx. ARMORED_E_BAD_CONFIG for a
 * bad config or a state that does not parse. */
armored_status armored_init(armored_ctx *ctx, const armored_config *cfg, const armored_crypto *crypto,
                            const armored_platform *platform, const uint8_t *state, size_t state_len);

/* Wipes every key in ctx. */
void armored_wipe(armored_ctx *ctx);

/* Starts epoch + 1 (section 5): fresh ephemeral key, ECDH with the cloud key,
 * new keys; stores the new state, erases the old keys, and writes the signed
 * announcement (section 4) to out. Send it before the epoch's first reading. */
armored_status armored_start_epoch(armored_ctx *ctx, uint8_t *out, size_t out_cap, size_t *out_len);

/* The current epoch's announcement again (same ephemeral key, fresh
 * signature), to re-send after a reset or when it may be lost; the cloud
 * treats it as a duplicate. ARMORED_E_ROTATION_REQUIRED without an epoch. */
armored_status armored_announcement(armored_ctx *ctx, uint8_t *out, size_t out_cap, size_t *out_len);

/* Non-zero when no epoch is running or the current one is
 * rotation_interval_s old or has sealed rotation_messages envelopes. */
int armored_rotation_due(const armored_ctx *ctx);

/* Size of the next sealed envelope for pt_len plaintext bytes. */
size_t armored_sealed_size(const armored_ctx *ctx, size_t pt_len);

/* Seals a reading (or a command reply) as a type 0 envelope (section 7.3)
 * into out. Stores a new reservation first when the sequence number reaches
 * the stored one (ARMORED_E_PERSIST_FAILED if that fails; nothing sealed).
 * ARMORED_E_ROTATION_REQUIRED when armored_rotation_due(), OVERSIZED over
 * max_plaintext. */
armored_status armored_seal(armored_ctx *ctx, const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap,
                            size_t *out_len);

/* Opens a command (type 1 envelope) into out (section 8.1, device rules):
 * MALFORMED, UNKNOWN_KEY_ID (another kid), UNKNOWN_EPOCH (not the current
 * epoch), OVERSIZED, REPLAYED, TOO_OLD, AUTHENTICATION_FAILED. The replay
 * window is stored before success is returned (PERSIST_FAILED otherwise, and
 * out is wiped). */
armored_status armored_open_command(armored_ctx *ctx, const uint8_t *env, size_t env_len, uint8_t *out,
                                    size_t out_cap, size_t *out_len, uint64_t *seq_out);

/* ---- Gateway answers (section 9.1) ---- */

#define ARMORED_ANSWER_SPOOLED 0xC1
#define ARMORED_ANSWER_REFUSED 0xC2
#define ARMORED_ANSWER_PACKED 0xC3
#define ARMORED_PACKED_ANSWER_MAX 1200

typedef struct armored_answer {
  uint8_t kind;          /* ARMORED_ANSWER_SPOOLED or ARMORED_ANSWER_REFUSED */
  uint8_t header_len;
  const uint8_t *header; /* points into the datagram */
} armored_answer;

/* Size of the uplink or announcement header starting with these flags, 0 if
 * no answer can echo such a header. */
size_t armored_answer_header_size(uint8_t flags);

/* Parses a single or packed answer into out (all or nothing): NOT_ANSWER if
 * the first byte is not 0xC1..0xC3 (e.g. a command), MALFORMED for any rule
 * of section 9.1, BUFFER_TOO_SMALL for more than out_cap entries. */
armored_status armored_parse_answers(const uint8_t *d, size_t len, armored_answer *out, size_t out_cap,
                                     size_t *count_out);

/* ---- Outbox: messages sent and not yet answered 0xC1 ---- */

#define ARMORED_SLOT_SIZE ARMORED_ANNOUNCEMENT_MAX

typedef struct armored_outbox_slot {
  int64_t next_send; /* Unix seconds */
  uint16_t len;      /* 0: free */
  uint8_t sends;
  uint8_t msg[ARMORED_SLOT_SIZE];
} armored_outbox_slot;

typedef struct armored_outbox {
  armored_outbox_slot *slots; /* the caller's array */
  size_t slot_count;
  uint32_t retry_s;           /* first re-send delay; doubles up to 16x */
  uint32_t spooled, refused, malformed_answers, sends;
} armored_outbox;

/* Uses the caller's slots (all freed). retry_s 0: 5 s. */
void armored_outbox_init(armored_outbox *ob, armored_outbox_slot *slots, size_t slot_count, uint32_t retry_s);
/* Copies msg into a free slot and sends it (a failed send is retried later).
 * FULL when every slot is taken, BUFFER_TOO_SMALL when msg is too long. */
armored_status armored_outbox_send(armored_outbox *ob, const armored_ctx *ctx, const uint8_t *msg, size_t len);
/* Re-sends every message whose time has come. */
void armored_outbox_poll(armored_outbox *ob, const armored_ctx *ctx);
/* Number of messages waiting for their answer. */
size_t armored_outbox_pending(const armored_outbox *ob);
/* Non-zero while a message with this header is outstanding. */
int armored_outbox_has(const armored_outbox *ob, const uint8_t *header, size_t header_len);

typedef enum armored_event_kind {
  ARMORED_EVENT_NONE = 0,
  ARMORED_EVENT_ANSWERS = 1, /* answers applied to the outbox */
  ARMORED_EVENT_COMMAND = 2  /* a command was opened into the caller's buffer */
} armored_event_kind;

typedef struct armored_event {
  armored_event_kind kind;
  size_t spooled, refused; /* ANSWERS: entries that matched an outstanding message */
  size_t command_len;      /* COMMAND */
  uint64_t command_seq;
} armored_event;

/* Handles one datagram from the gateway: an answer releases (0xC1) or
 * delays (0xC2) the matching outbox messages; a command is opened into
 * cmd_out. Errors are those of armored_parse_answers (MALFORMED answers are
 * counted and nothing is acted on) or of armored_open_command. */
armored_status armored_receive(armored_ctx *ctx, armored_outbox *ob, const uint8_t *d, size_t len, uint8_t *cmd_out,
                               size_t cmd_cap, armored_event *ev);

/* ---- Command plaintexts (docs/commands.md section 4) ----
 * Decoding a command's name and parameters is the application's (its
 * schema); these two cover what every device needs to answer one. */

/* The id (key 1) of a command plaintext, checking only the prefix d9 d9 f7,
 * a definite map, and kind (key 0) = 1 first; MALFORMED otherwise. */
armored_status armored_command_id(const uint8_t *pt, size_t len, uint64_t *id_out);

/* Writes the reply 55799({0: 2, 1: id, 5: outcome, ? 6: reason}) to out:
 * accepted when reason is NULL, else refused with that reason name
 * (1..64 bytes, e.g. "unknown_command"). Seal it with armored_seal(). */
armored_status armored_reply_encode(uint64_t command_id, const char *reason, uint8_t *out, size_t out_cap,
                                    size_t *out_len);

/* ---- Provisioning record (device-sdk/PORTING.md) ----
 * What `armored_device_provision` writes for one device and the device keeps
 * in its storage: "AP", version 1, flags (bit 0: identity scalar present),
 * kid_len, kid, cloud_key_id_len, cloud_key_id, cloud public key (65),
 * then the identity private scalar (32) unless the key lives in a secure
 * element. */

#define ARMORED_PROVISIONING_MAX (4 + 1 + ARMORED_KID_MAX + 1 + ARMORED_CLOUD_KEY_ID_MAX + 65 + 32)

typedef struct armored_provisioning {
  uint8_t kid[ARMORED_KID_MAX];
  uint8_t kid_len;
  uint8_t cloud_key_id[ARMORED_CLOUD_KEY_ID_MAX];
  uint8_t cloud_key_id_len;
  uint8_t cloud_public_key[ARMORED_P256_POINT_SIZE];
  uint8_t has_identity_scalar;
  uint8_t identity_scalar[32];
} armored_provisioning;

/* Parses a provisioning record; MALFORMED for any deviation (sizes, flags,
 * trailing bytes). */
armored_status armored_provisioning_parse(const uint8_t *in, size_t len, armored_provisioning *out);

/* ---- The 52-byte reading (docs/telemetry-reading.md) ---- */

typedef struct armored_reading {
  uint32_t timestamp; /* Unix seconds, end of the window */
  uint16_t heart_rate_dbpm, heart_rate_min_dbpm, heart_rate_max_dbpm;
  uint8_t spo2_pct, spo2_min_pct;
  uint16_t perfusion_index_cpct;
  uint8_t respiration_rate, ecg_rhythm;
  uint16_t ecg_rr_mean_ms, ecg_hrv_rmssd_ms, ecg_pr_ms, ecg_qrs_ms, ecg_qtc_ms;
  int16_t ecg_st_uv;
  uint8_t ecg_ectopic_beats, ecg_quality_pct;
  int16_t skin_temp_cdegc;
  uint16_t activity_mg, steps;
  uint8_t posture, battery_pct;
  uint16_t battery_mv, window_s, flags;
  int8_t rssi_dbm;
} armored_reading;

/* Writes every field big-endian at its documented offset; bytes 45..51 zero. */
void armored_reading_encode(const armored_reading *r, uint8_t out[ARMORED_READING_SIZE]);
/* Parses 52 bytes; MALFORMED for a wrong length, a reserved byte or flag
 * bit set, or an undefined rhythm or posture. Ranges are the cloud's check. */
armored_status armored_reading_decode(const uint8_t *in, size_t len, armored_reading *out);

#ifdef __cplusplus
}
#endif
#endif
