#include "e3/sealer.h"

#include <algorithm>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "crypto/secure_zero.h"
#include "e3/announcement.h"
#include "e3/internal/state_codec.h"

namespace armored::e3 {
namespace {

// P-256 group order n: ephemeral scalars are drawn uniformly from [1, n-1].
constexpr std::uint8_t kP256Order[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

}  // namespace

Sealer::Sealer(SealerConfig config, crypto::EcPrivateKey identity, crypto::EcPublicKey cloud, Clock& clock, Rng& rng,
               StateStore& store)
    : config_(std::move(config)), identity_(std::move(identity)), cloud_(std::move(cloud)), clock_(&clock),
      rng_(&rng), store_(&store), window_(config_.replay_window) {}

E3Result<Sealer> Sealer::create(SealerConfig config, crypto::EcPrivateKey identity_key,
                                crypto::EcPublicKey cloud_public_key, Clock& clock, Rng& rng, StateStore& store) {
  if (config.kid.size() < kMinKidSize || config.kid.size() > kMaxKidSize) {
    return e3_fail(E3Errc::kBadConfig, "kid must be 1..8 bytes");
  }
  if (config.cloud_key_id.empty() || config.cloud_key_id.size() > 32) {
    return e3_fail(E3Errc::kBadConfig, "cloud key ID must be 1..32 bytes");
  }
  if (config.reserve_ahead == 0 || config.rotation_messages == 0 || config.rotation_messages > kMaxSequence + 1 ||
      config.replay_window == 0 || config.replay_window > ReplayWindow::kMaxSize) {
    return e3_fail(E3Errc::kBadConfig, "reserve_ahead, rotation_messages or replay_window out of range");
  }
  return Sealer(std::move(config), std::move(identity_key), std::move(cloud_public_key), clock, rng, store);
}

E3Result<crypto::EcPrivateKey> Sealer::ephemeral_key() {
  std::array<std::uint8_t, 32> d{};
  for (int attempt = 0; attempt < 64; ++attempt) {
    rng_->fill(d);
    const bool zero = std::all_of(d.begin(), d.end(), [](std::uint8_t b) { return b == 0; });
    const bool below_n = std::lexicographical_compare(d.begin(), d.end(), std::begin(kP256Order), std::end(kP256Order));
    if (zero || !below_n) continue;
    auto key = crypto::EcPrivateKey::from_scalar(d);
    crypto::secure_zero(d);
    if (!key) return e3_fail(E3Errc::kInternal, "ephemeral key rejected");
    return std::move(*key);
  }
  return e3_fail(E3Errc::kInternal, "random generator keeps producing invalid scalars");
}

E3Result<Bytes> Sealer::start_epoch() {
  const std::uint32_t current = epoch();
  if (current == 0xffffffffu) return e3_fail(E3Errc::kRotationRequired, "epoch numbers exhausted");
  AnnouncementFields f;
  f.kid = config_.kid;
  f.epoch = current + 1;
  f.alg = config_.alg;
  f.cloud_key_id = config_.cloud_key_id;
  std::optional<EpochSecrets> secrets;
  {
    // The ephemeral private key lives only in this scope: once the keys are
    // derived nobody (including a thief of the device) can recompute them.
    auto eph = ephemeral_key();
    if (!eph) return unexpected(eph.error());
    auto pub = eph->public_key();
    if (!pub) return e3_fail(E3Errc::kInternal, "ephemeral public key");
    f.ephemeral_public = pub->point();
    auto shared = eph->ecdh(cloud_);
    if (!shared) return e3_fail(E3Errc::kBadConfig, "ECDH with the cloud key failed");
    auto s = derive_epoch_secrets(*shared, {f.kid, f.epoch, f.alg, f.cloud_key_id, f.ephemeral_public});
    crypto::secure_zero(*shared);
    if (!s) return unexpected(s.error());
    secrets = *s;
  }
  auto keys = EpochKeys::derive(config_.kid, *secrets);
  if (!keys) return unexpected(keys.error());
  auto ann = build_announcement(f, identity_);
  if (!ann) return unexpected(ann.error());

  const std::int64_t now = unix_seconds(clock_->now());
  const std::uint64_t reserved = std::min(config_.reserve_ahead, config_.rotation_messages);
  ReplayWindow fresh(config_.replay_window);
  Bytes state = serialize_with(&*secrets, now, reserved, fresh, *ann);
  if (!store_->save(state)) return e3_fail(E3Errc::kPersistFailed, "could not persist the new epoch");
  crypto::secure_zero(state);

  keys_.reset();  // erase the old epoch's keys before installing the new ones
  keys_.emplace(std::move(*keys));
  last_epoch_ = f.epoch;
  epoch_started_ = now;
  next_seq_ = 0;
  reserved_until_ = reserved;
  window_ = fresh;
  announcement_ = *ann;
  return std::move(*ann);
}

bool Sealer::rotation_due() const {
  if (!keys_) return true;
  const std::int64_t age = unix_seconds(clock_->now()) - epoch_started_;
  return age >= config_.rotation_interval.count() || next_seq_ >= config_.rotation_messages;
}

std::size_t Sealer::sealed_size(std::size_t plaintext_size) const {
  return e3::sealed_size(keys_ ? keys_->alg() : config_.alg, plaintext_size, config_.kid.size(), next_seq_);
}

E3Result<std::size_t> Sealer::seal(ByteSpan plaintext, MutableByteSpan out_) {
  if (!keys_) return e3_fail(E3Errc::kRotationRequired, "no epoch started");
  if (plaintext.size() > config_.max_plaintext) return e3_fail(E3Errc::kOversized, "plaintext over max_plaintext");
  if (rotation_due()) return e3_fail(E3Errc::kRotationRequired, "epoch expired; start a new epoch");
  const std::uint64_t seq = next_seq_;
  const DataFraming& framing = keys_->framing(MessageType::kUplink);
  const std::size_t hdr_size = framing.header_size(seq);
  if (out_.size() < hdr_size + plaintext.size() + keys_->tag_size()) {
    return e3_fail(E3Errc::kBufferTooSmall, "output buffer smaller than sealed_size()");
  }
  if (seq >= reserved_until_) {
    // RFC 8613 B.1.1: store the new upper bound before using any number under it.
    const std::uint64_t reserved = std::min(seq + config_.reserve_ahead, config_.rotation_messages);
    Bytes state = serialize_with(&keys_->secrets(), epoch_started_, reserved, window_, announcement_);
    const bool saved = static_cast<bool>(store_->save(state));
    crypto::secure_zero(state);
    if (!saved) return e3_fail(E3Errc::kPersistFailed, "could not persist the sequence reservation");
    reserved_until_ = reserved;
  }
  // Header, AAD and nonce come from the epoch's precomputed templates; only
  // the partial IV and two lengths are written per message.
  const std::size_t hdr = framing.write_header(seq, out_.data());
  std::array<std::uint8_t, kMaxAadSize> aad;
  const std::size_t aad_len = framing.write_aad(seq, aad.data());
  std::array<std::uint8_t, oscore::kMaxNonce> nonce;
  keys_->nonce(MessageType::kUplink, seq, nonce);
  auto sealed = keys_->aead(MessageType::kUplink)
                    .seal({nonce.data(), keys_->nonce_size()}, {aad.data(), aad_len}, plaintext, out_.subspan(hdr));
  if (!sealed) return e3_fail(E3Errc::kInternal, "AEAD seal failed");
  next_seq_ = seq + 1;
  return hdr + *sealed;
}

E3Result<OpenedCommand> Sealer::open_command(ByteSpan envelope, MutableByteSpan out_) {
  auto h = parse_header(envelope);
  if (!h) return unexpected(h.error());
  if (h->type != MessageType::kDownlink) return e3_fail(E3Errc::kMalformed, "not a command envelope");
  if (!std::ranges::equal(h->kid, config_.kid)) return e3_fail(E3Errc::kUnknownKeyId, "command for another key ID");
  if (!keys_ || h->epoch_id != static_cast<std::uint8_t>(keys_->epoch())) {
    return e3_fail(E3Errc::kUnknownEpoch, "command for an epoch this device does not hold");
  }
  if (h->body.size() < keys_->tag_size()) return e3_fail(E3Errc::kMalformed, "body shorter than the tag");
  const std::size_t pt_len = h->body.size() - keys_->tag_size();
  if (pt_len > config_.max_plaintext) return e3_fail(E3Errc::kOversized, "command over max_plaintext");
  if (out_.size() < pt_len) return e3_fail(E3Errc::kBufferTooSmall, "output buffer too small");
  if (auto w = window_.check(h->sequence); !w) return unexpected(w.error());
  std::array<std::uint8_t, kMaxAadSize> aad;
  const std::size_t aad_len = keys_->framing(MessageType::kDownlink).write_aad(h->sequence, aad.data());
  std::array<std::uint8_t, oscore::kMaxNonce> nonce{};
  keys_->nonce(MessageType::kDownlink, h->sequence, nonce);
  auto opened = keys_->aead(MessageType::kDownlink)
                    .open({nonce.data(), keys_->nonce_size()}, {aad.data(), aad_len}, h->body, out_);
  if (!opened) return e3_fail(E3Errc::kAuthFailed, "command did not authenticate");
  // Commands are rare and act on the device: record the window durably
  // before reporting success, so a reboot cannot make a replay acceptable.
  ReplayWindow marked = window_;
  marked.mark(h->sequence);
  Bytes state = serialize_with(&keys_->secrets(), epoch_started_, reserved_until_, marked, announcement_);
  const bool saved = static_cast<bool>(store_->save(state));
  crypto::secure_zero(state);
  if (!saved) {
    crypto::secure_zero(out_.first(*opened));
    return e3_fail(E3Errc::kPersistFailed, "could not persist the command window");
  }
  window_ = marked;
  return OpenedCommand{keys_->epoch(), h->sequence, *opened};
}

// State: [version, kid, last_epoch, secrets / null, started_at, reserved_until, window, announcement]
Bytes Sealer::serialize_with(const EpochSecrets* secrets, std::int64_t started_at, std::uint64_t reserved,
                             const ReplayWindow& window, ByteSpan announcement) const {
  Bytes out;
  cbor::Writer w(out);
  w.array(8).uint(codec::kStateVersion).bstr(config_.kid).uint(secrets ? secrets->epoch : last_epoch_);
  if (secrets) codec::write_secrets(w, *secrets); else w.null();
  w.uint(static_cast<std::uint64_t>(std::max<std::int64_t>(started_at, 0))).uint(reserved);
  codec::write_window(w, window);
  w.bstr(announcement);
  return out;
}

Bytes Sealer::serialize() const {
  return serialize_with(keys_ ? &keys_->secrets() : nullptr, epoch_started_, reserved_until_, window_, announcement_);
}

E3Result<void> Sealer::restore(ByteSpan state) {
  auto item = cbor::decode(state, codec::state_limits());
  if (!item) return e3_fail(E3Errc::kBadConfig, "sealer state is not valid CBOR");
  using cbor::Type;
  const auto& c = item->children;
  if (item->type != Type::kArray || c.size() != 8 || c[0].type != Type::kUint || c[0].uint_value != codec::kStateVersion ||
      c[1].type != Type::kBstr || c[2].type != Type::kUint || c[2].uint_value > 0xffffffffu ||
      c[4].type != Type::kUint || c[5].type != Type::kUint || c[5].uint_value > kMaxSequence + 1 ||
      c[7].type != Type::kBstr) {
    return e3_fail(E3Errc::kBadConfig, "sealer state has the wrong shape");
  }
  if (!std::ranges::equal(c[1].bytes, config_.kid)) return e3_fail(E3Errc::kBadConfig, "sealer state for another kid");
  ReplayWindow window(config_.replay_window);
  if (!codec::read_window(c[6], window)) return e3_fail(E3Errc::kBadConfig, "sealer state window");
  std::optional<EpochKeys> keys;
  if (c[3].type != Type::kNull) {
    auto secrets = codec::read_secrets(c[3]);
    if (!secrets || secrets->epoch != c[2].uint_value) return e3_fail(E3Errc::kBadConfig, "sealer state secrets");
    auto k = EpochKeys::derive(config_.kid, *secrets);
    if (!k) return unexpected(k.error());
    keys.emplace(std::move(*k));
  }
  keys_ = std::move(keys);
  last_epoch_ = static_cast<std::uint32_t>(c[2].uint_value);
  epoch_started_ = static_cast<std::int64_t>(c[4].uint_value);
  // Anything below the reservation may have been used before the restart.
  next_seq_ = c[5].uint_value;
  reserved_until_ = c[5].uint_value;
  window_ = window;
  announcement_ = c[7].bytes;
  return {};
}

}  // namespace armored::e3
