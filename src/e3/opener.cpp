#include "e3/opener.h"

#include <algorithm>

#include "cbor/decoder.h"
#include "cbor/writer.h"
#include "crypto/secure_zero.h"
#include "e3/announcement.h"
#include "e3/internal/aead_cache.h"
#include "e3/internal/state_codec.h"

namespace armored::e3 {
namespace {

constexpr std::uint32_t kEmpty = UINT32_MAX;

// A kid is at most 8 bytes: packed into a word with its length, mixed
// (a 64-bit finaliser) so that sequential kids spread over the table.
std::size_t kid_hash(ByteSpan kid) {
  std::uint64_t v = kid.size();
  for (std::uint8_t b : kid) v = (v << 8) | b;
  v ^= static_cast<std::uint64_t>(kid.size()) << 59;
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdull;
  v ^= v >> 33;
  v *= 0xc4ceb9fe1a85ec53ull;
  v ^= v >> 33;
  return static_cast<std::size_t>(v);
}

}  // namespace

Opener::Opener(OpenerConfig config, crypto::EcPrivateKey cloud_key, Clock& clock, StateStore* store)
    : config_(std::move(config)),
      cloud_key_(std::move(cloud_key)),
      clock_(&clock),
      store_(store),
      contexts_(std::make_unique<internal::AeadCache>(config_.keyed_epochs)) {}

Opener::Opener(Opener&&) = default;
Opener& Opener::operator=(Opener&&) = default;
Opener::~Opener() = default;

Opener::Device* Opener::find(ByteSpan kid) {
  return const_cast<Device*>(static_cast<const Opener*>(this)->find(kid));
}

const Opener::Device* Opener::find(ByteSpan kid) const {
  if (index_.empty() || kid.size() < kMinKidSize || kid.size() > kMaxKidSize) return nullptr;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = kid_hash(kid) & mask;; i = (i + 1) & mask) {
    const std::uint32_t at = index_[i];
    if (at == kEmpty) return nullptr;
    const Device& d = devices_[at];
    if (d.kid_size == kid.size() && std::equal(kid.begin(), kid.end(), d.kid_bytes.begin())) return &d;
  }
}

void Opener::index_insert(std::uint32_t device) {
  // At most half full, so a probe for an absent kid ends soon.
  const auto place = [this](std::uint32_t d) {
    const std::size_t mask = index_.size() - 1;
    std::size_t i = kid_hash(devices_[d].kid()) & mask;
    while (index_[i] != kEmpty) i = (i + 1) & mask;
    index_[i] = d;
  };
  if (devices_.size() * 2 > index_.size()) {
    index_.assign(std::max<std::size_t>(16, index_.size() * 2), kEmpty);
    for (std::uint32_t d = 0; d < devices_.size(); ++d) place(d);
    return;
  }
  place(device);
}

const crypto::AeadContext* Opener::aead(Slot& slot, MessageType direction) {
  internal::AeadCache::Ref ref{slot.contexts_index, slot.contexts_tag};
  const crypto::AeadContext* ctx = contexts_->get(ref, slot.keys, direction);
  slot.contexts_index = ref.index;
  slot.contexts_tag = ref.tag;
  return ctx;
}

void Opener::release(std::unique_ptr<Slot>& slot) {
  if (!slot) return;
  internal::AeadCache::Ref ref{slot->contexts_index, slot->contexts_tag};
  contexts_->forget(ref);
  slot.reset();
}

std::size_t Opener::keyed_epochs() const { return contexts_->size(); }
std::uint64_t Opener::keyings() const { return contexts_->misses(); }

E3Result<Opener> Opener::create(OpenerConfig config, crypto::EcPrivateKey cloud_key, Clock& clock,
                                StateStore* command_store) {
  if (config.cloud_key_id.empty() || config.cloud_key_id.size() > kMaxCloudKeyIdSize) {
    return e3_fail(E3Errc::kBadConfig, "cloud key ID must be 1..32 bytes");
  }
  if (config.replay_window == 0 || config.replay_window > ReplayWindow::kMaxSize || config.reserve_ahead == 0 ||
      config.keyed_epochs == 0 || config.keyed_epochs >= internal::AeadCache::kNone) {
    return e3_fail(E3Errc::kBadConfig, "replay_window, reserve_ahead or keyed_epochs out of range");
  }
  return Opener(std::move(config), std::move(cloud_key), clock, command_store);
}

E3Result<void> Opener::add_device(DeviceRecord record) {
  return add_device(record.kid, std::move(record.device_id), record.identity_key.point());
}

E3Result<void> Opener::add_device(ByteSpan kid, std::string device_id,
                                  const std::array<std::uint8_t, crypto::kP256PointSize>& identity_point) {
  if (kid.size() < kMinKidSize || kid.size() > kMaxKidSize) return e3_fail(E3Errc::kBadConfig, "kid must be 1..8 bytes");
  if (identity_point[0] != 0x04) return e3_fail(E3Errc::kBadConfig, "identity key is not an uncompressed point");
  if (find(kid) != nullptr) return e3_fail(E3Errc::kBadConfig, "duplicate kid");
  if (devices_.size() >= kEmpty - 1) return e3_fail(E3Errc::kBadConfig, "too many devices");
  Device& dev = devices_.emplace_back();
  dev.device_id = std::move(device_id);
  dev.identity_point = identity_point;
  std::copy(kid.begin(), kid.end(), dev.kid_bytes.begin());
  dev.kid_size = static_cast<std::uint8_t>(kid.size());
  index_insert(static_cast<std::uint32_t>(devices_.size() - 1));
  return {};
}

template <typename T>
E3Result<T> Opener::count(E3Result<T> r) {
  if (!r) ++counters_.rejected[static_cast<std::size_t>(r.error().code)];
  return r;
}

E3Result<AcceptedEpoch> Opener::accept_announcement(ByteSpan message) {
  auto r = count(accept_impl(message));
  if (r) ++counters_.announcements;
  return r;
}

E3Result<AcceptedEpoch> Opener::accept_impl(ByteSpan message) {
  auto parsed = parse_announcement(message);
  if (!parsed) return unexpected(parsed.error());
  const auto& f = parsed->fields;
  Device* found = find(f.kid);
  if (found == nullptr) return e3_fail(E3Errc::kUnknownKeyId, "announcement from an unknown key ID");
  Device& dev = *found;
  if (!std::ranges::equal(f.cloud_key_id, config_.cloud_key_id)) {
    return e3_fail(E3Errc::kUnknownKeyId, "announcement for another cloud key");
  }
  // The identity key is kept as its point and made an OpenSSL key only
  // here: an announcement a day per device, against a kilobyte per device
  // held for the cloud's whole life.
  auto identity = crypto::EcPublicKey::from_point(dev.identity_point);
  if (!identity) return e3_fail(E3Errc::kBadConfig, "the device's identity key is not a P-256 point");
  if (!identity->verify_p1363(parsed->to_be_signed, parsed->signature)) {
    return e3_fail(E3Errc::kAuthFailed, "announcement signature does not verify");
  }
  if (dev.current && f.epoch == dev.current->keys.epoch()) {
    if (f.ephemeral_public == dev.current->ephemeral_public) {
      return AcceptedEpoch{dev.device_id, f.epoch, f.alg, true, dev.kid()};
    }
    return e3_fail(E3Errc::kStaleAnnouncement, "conflicting announcement for the current epoch");
  }
  if (f.epoch <= dev.highest_epoch) return e3_fail(E3Errc::kStaleAnnouncement, "announcement for an old epoch");

  auto eph = crypto::EcPublicKey::from_point(f.ephemeral_public);
  if (!eph) return e3_fail(E3Errc::kMalformed, "ephemeral key is not on P-256");
  auto shared = cloud_key_.ecdh(*eph);
  if (!shared) return e3_fail(E3Errc::kMalformed, "ECDH with the ephemeral key failed");
  auto secrets = derive_epoch_secrets(*shared, {f.kid, f.epoch, f.alg, f.cloud_key_id, f.ephemeral_public});
  crypto::secure_zero(*shared);
  if (!secrets) return unexpected(secrets.error());
  auto keys = EpochMaterial::derive(f.kid, *secrets);
  if (!keys) return unexpected(keys.error());

  const std::int64_t now = unix_seconds(clock_->now());
  if (dev.current) {
    release(dev.previous);
    dev.previous = std::move(dev.current);
    dev.previous->expires_at = std::min(dev.previous->expires_at, now + config_.grace_period.count());
    // The one-byte epoch id must name one epoch only.
    if ((dev.previous->keys.epoch() & 0xff) == (f.epoch & 0xff)) release(dev.previous);
  }
  dev.current = std::make_unique<Slot>(std::move(*keys), config_.replay_window);
  dev.current->ephemeral_public = f.ephemeral_public;
  dev.current->expires_at = now + config_.epoch_lifetime.count();
  dev.highest_epoch = f.epoch;
  return AcceptedEpoch{dev.device_id, f.epoch, f.alg, false, dev.kid()};
}

E3Result<OpenedReading> Opener::open(ByteSpan envelope, MutableByteSpan out_) {
  // Counted in place (not through count()) so the result is returned without a copy.
  auto r = open_impl(envelope, out_);
  if (r) {
    ++counters_.opened;
  } else {
    ++counters_.rejected[static_cast<std::size_t>(r.error().code)];
  }
  return r;
}

E3Result<OpenedReading> Opener::open_impl(ByteSpan envelope, MutableByteSpan out_) {
  if (envelope.size() > kMaxHeaderSize + config_.max_plaintext + 16) {
    return e3_fail(E3Errc::kOversized, "envelope over the size limit");
  }
  auto h = parse_header(envelope);
  if (!h) return unexpected(h.error());
  if (h->type != MessageType::kUplink) return e3_fail(E3Errc::kMalformed, "not a reading envelope");
  Device* found = find(h->kid);
  if (found == nullptr) return e3_fail(E3Errc::kUnknownKeyId, "unknown key ID");
  Device& dev = *found;
  Slot* slot = nullptr;
  if (dev.current && static_cast<std::uint8_t>(dev.current->keys.epoch()) == h->epoch_id) {
    slot = &*dev.current;
  } else if (dev.previous && static_cast<std::uint8_t>(dev.previous->keys.epoch()) == h->epoch_id) {
    slot = &*dev.previous;
  } else {
    return e3_fail(E3Errc::kUnknownEpoch, "epoch id matches neither current nor previous epoch");
  }
  if (unix_seconds(clock_->now()) >= slot->expires_at) {
    return e3_fail(E3Errc::kExpiredEpoch, slot == dev.current.get() ? "epoch past its lifetime"
                                                                     : "previous epoch past its grace period");
  }
  const EpochMaterial& keys = slot->keys;
  if (h->body.size() < keys.tag_size()) return e3_fail(E3Errc::kMalformed, "body shorter than the tag");
  const std::size_t pt_len = h->body.size() - keys.tag_size();
  if (pt_len > config_.max_plaintext) return e3_fail(E3Errc::kOversized, "plaintext over max_plaintext");
  if (out_.size() < pt_len) return e3_fail(E3Errc::kBufferTooSmall, "output buffer too small");
  // kReplayed: received durably before, dropped without decrypting. Left of
  // the window: opened all the same and flagged, storage decides.
  bool below_window = false;
  if (auto w = slot->window.check(h->sequence); !w) {
    if (w.error().code != E3Errc::kTooOld) return unexpected(w.error());
    below_window = true;
  }

  // The AAD template of the slot's epoch holds the kid, epoch and algorithm;
  // the kid matched the device and the epoch id the slot, so only the
  // partial IV (fixed by the sequence number) varies.
  std::array<std::uint8_t, kMaxAadSize> aad;
  const std::size_t aad_len = keys.framing(MessageType::kUplink).write_aad(h->sequence, aad.data());
  std::array<std::uint8_t, oscore::kMaxNonce> nonce;
  keys.nonce(MessageType::kUplink, h->sequence, nonce);
  const crypto::AeadContext* aead_ctx = aead(*slot, MessageType::kUplink);
  if (aead_ctx == nullptr) return e3_fail(E3Errc::kInternal, "AEAD keying failed");
  auto opened = aead_ctx->open({nonce.data(), keys.nonce_size()}, {aad.data(), aad_len}, h->body, out_);
  if (!opened) return e3_fail(E3Errc::kAuthFailed, "envelope did not authenticate");
  if (below_window) ++counters_.below_window;
  return OpenedReading{dev.device_id, keys.epoch(), h->sequence, keys.alg(), *opened, below_window};
}

void Opener::mark_received(ByteSpan kid, std::uint32_t epoch, std::uint64_t seq) {
  Device* found = find(kid);
  if (found == nullptr) return;
  Device& dev = *found;
  if (dev.current && dev.current->keys.epoch() == epoch) {
    dev.current->window.mark(seq);
  } else if (dev.previous && dev.previous->keys.epoch() == epoch) {
    dev.previous->window.mark(seq);
  }
}

E3Result<std::size_t> Opener::seal_command(ByteSpan kid, ByteSpan plaintext, MutableByteSpan out_) {
  Device* found = find(kid);
  if (found == nullptr) return e3_fail(E3Errc::kUnknownKeyId, "unknown key ID");
  Device& dev = *found;
  if (!dev.current) return e3_fail(E3Errc::kUnknownEpoch, "device has no epoch yet");
  if (plaintext.size() > config_.max_plaintext) return e3_fail(E3Errc::kOversized, "plaintext over max_plaintext");
  Slot& slot = *dev.current;
  if (unix_seconds(clock_->now()) >= slot.expires_at) return e3_fail(E3Errc::kExpiredEpoch, "device epoch expired");
  if (store_ == nullptr) return e3_fail(E3Errc::kBadConfig, "commands need a state store for sequence reservations");
  std::uint64_t seq = slot.command_next;
  if (store_->allocates_sequences()) {
    // Shared with other senders: the store's number, never reserved ahead.
    auto allocated = store_->allocate_sequence(kid, slot.keys.epoch(), std::max(slot.command_next, slot.command_reserved));
    if (!allocated) return e3_fail(E3Errc::kPersistFailed, "could not allocate a command sequence number");
    seq = *allocated;
  }
  if (seq > kMaxSequence) return e3_fail(E3Errc::kRotationRequired, "command sequence numbers exhausted");
  const EpochMaterial& keys = slot.keys;
  const std::size_t total = sealed_size(keys.alg(), plaintext.size(), kid.size(), seq);
  if (out_.size() < total) return e3_fail(E3Errc::kBufferTooSmall, "output buffer too small");
  if (!store_->allocates_sequences() && seq >= slot.command_reserved) {
    slot.command_reserved = seq + config_.reserve_ahead;
    if (!persist_reservation(dev)) {
      slot.command_reserved = seq;
      return e3_fail(E3Errc::kPersistFailed, "could not persist the command reservation");
    }
  }
  const DataFraming& framing = keys.framing(MessageType::kDownlink);
  const std::size_t hdr = framing.write_header(seq, out_.data());
  std::array<std::uint8_t, kMaxAadSize> aad;
  const std::size_t aad_len = framing.write_aad(seq, aad.data());
  std::array<std::uint8_t, oscore::kMaxNonce> nonce{};
  keys.nonce(MessageType::kDownlink, seq, nonce);
  const crypto::AeadContext* aead_ctx = aead(slot, MessageType::kDownlink);
  if (aead_ctx == nullptr) return e3_fail(E3Errc::kInternal, "AEAD keying failed");
  auto sealed = aead_ctx->seal({nonce.data(), keys.nonce_size()}, {aad.data(), aad_len}, plaintext, out_.subspan(hdr));
  if (!sealed) return e3_fail(E3Errc::kInternal, "AEAD seal failed");
  slot.command_next = seq + 1;
  return hdr + *sealed;
}

std::optional<std::uint32_t> Opener::current_epoch(ByteSpan kid) const {
  const Device* dev = find(kid);
  if (dev == nullptr || !dev->current) return std::nullopt;
  return dev->current->keys.epoch();
}

// State: [version, [device...]]; device: [kid, highest_epoch, slot / null, slot / null];
// slot: [secrets, ephemeral_public, expires_at, window, command_reserved].
void Opener::write_device(cbor::Writer& w, const Device& dev) const {
  auto write_slot = [&](const std::unique_ptr<Slot>& s) {
    if (!s) {
      w.null();
      return;
    }
    w.array(5);
    codec::write_secrets(w, s->keys.secrets());
    w.bstr(s->ephemeral_public).uint(static_cast<std::uint64_t>(std::max<std::int64_t>(s->expires_at, 0)));
    codec::write_window(w, s->window);
    w.uint(s->command_reserved);
  };
  w.array(4).bstr(dev.kid()).uint(dev.highest_epoch);
  write_slot(dev.current);
  write_slot(dev.previous);
}

Bytes Opener::serialize() const {
  Bytes out;
  cbor::Writer w(out);
  std::vector<const Device*> sorted;
  sorted.reserve(devices_.size());
  for (const auto& dev : devices_) sorted.push_back(&dev);
  std::sort(sorted.begin(), sorted.end(), [](const Device* a, const Device* b) {
    return std::ranges::lexicographical_compare(a->kid(), b->kid());
  });
  w.array(2).uint(codec::kStateVersion).array(devices_.size());
  for (const Device* dev : sorted) write_device(w, *dev);
  return out;
}

Bytes Opener::serialize_device(ByteSpan kid) const {
  Bytes out;
  const Device* dev = find(kid);
  if (dev == nullptr) return out;
  cbor::Writer w(out);
  write_device(w, *dev);
  return out;
}

Status Opener::persist_reservation(const Device& dev) {
  if (store_->keeps_device_records()) return store_->save_device_record(serialize_device(dev.kid()));
  return store_->save(serialize());
}

E3Result<void> Opener::restore(ByteSpan state) {
  // Entry by entry: a fleet's state is some twenty CBOR items per device,
  // and decoded whole it would be a tree of about 90 bytes per item (and
  // over any sane item limit) next to the opener being filled.
  auto shape = [] { return e3_fail(E3Errc::kBadConfig, "opener state has the wrong shape"); };
  std::size_t used = 0;
  auto outer = cbor::decode_array_head(state, used);
  if (!outer || *outer != 2) return shape();
  ByteSpan rest = state.subspan(used);
  auto version = cbor::decode_prefix(rest, used, codec::state_limits());
  if (!version || version->type != cbor::Type::kUint || version->uint_value != codec::kStateVersion) return shape();
  rest = rest.subspan(used);
  auto count = cbor::decode_array_head(rest, used);
  if (!count) return shape();
  rest = rest.subspan(used);
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto entry = cbor::decode_prefix(rest, used, codec::state_limits());
    if (!entry) return e3_fail(E3Errc::kBadConfig, "opener state is not valid CBOR");
    ARMORED_TRY(restore_entry(*entry));
    rest = rest.subspan(used);
  }
  if (!rest.empty()) return e3_fail(E3Errc::kBadConfig, "opener state is not valid CBOR");
  return {};
}

E3Result<void> Opener::restore_device(ByteSpan entry) {
  auto item = cbor::decode(entry, codec::state_limits());
  if (!item) return e3_fail(E3Errc::kBadConfig, "opener device entry is not valid CBOR");
  return restore_entry(*item);
}

E3Result<void> Opener::restore_entry(const cbor::Item& d) {
  using cbor::Type;
  auto read_slot = [&](const cbor::Item& it, ByteSpan kid, std::unique_ptr<Slot>& out_) -> bool {
    if (it.type == Type::kNull) return true;
    if (it.type != Type::kArray || it.children.size() != 5) return false;
    const auto& c = it.children;
    auto secrets = codec::read_secrets(c[0]);
    if (!secrets || c[1].type != Type::kBstr || c[1].bytes.size() != crypto::kP256PointSize ||
        c[2].type != Type::kUint || c[2].uint_value > INT64_MAX || c[4].type != Type::kUint) {
      return false;
    }
    auto keys = EpochMaterial::derive(kid, *secrets);
    if (!keys) return false;
    out_ = std::make_unique<Slot>(std::move(*keys), config_.replay_window);
    std::copy(c[1].bytes.begin(), c[1].bytes.end(), out_->ephemeral_public.begin());
    out_->expires_at = static_cast<std::int64_t>(c[2].uint_value);
    if (!codec::read_window(c[3], out_->window)) return false;
    // Commands resume at the reservation: numbers below it may have been used.
    out_->command_next = out_->command_reserved = c[4].uint_value;
    return true;
  };
  if (d.type != Type::kArray || d.children.size() != 4 || d.children[0].type != Type::kBstr ||
      d.children[1].type != Type::kUint || d.children[1].uint_value > 0xffffffffu) {
    return e3_fail(E3Errc::kBadConfig, "opener state device entry");
  }
  Device* found = find(d.children[0].bytes);
  if (found == nullptr) return {};  // device no longer registered
  Device& dev = *found;
  std::unique_ptr<Slot> current, previous;
  if (!read_slot(d.children[2], dev.kid(), current) || !read_slot(d.children[3], dev.kid(), previous)) {
    return e3_fail(E3Errc::kBadConfig, "opener state epoch entry");
  }
  dev.highest_epoch = static_cast<std::uint32_t>(d.children[1].uint_value);
  release(dev.current);
  release(dev.previous);
  dev.current = std::move(current);
  dev.previous = std::move(previous);
  return {};
}

}  // namespace armored::e3
