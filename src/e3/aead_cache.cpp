#include "e3/internal/aead_cache.h"

namespace armored::e3::internal {

void AeadCache::unlink(std::uint32_t i) {
  Entry& e = entries_[i];
  if (e.prev != kNone) entries_[e.prev].next = e.next; else head_ = e.next;
  if (e.next != kNone) entries_[e.next].prev = e.prev; else tail_ = e.prev;
  e.prev = e.next = kNone;
}

void AeadCache::push_front(std::uint32_t i) {
  Entry& e = entries_[i];
  e.prev = kNone;
  e.next = head_;
  if (head_ != kNone) entries_[head_].prev = i;
  head_ = i;
  if (tail_ == kNone) tail_ = i;
}

std::uint32_t AeadCache::take_entry() {
  std::uint32_t i = kNone;
  if (free_count_ > 0) {
    // Forgotten entries wait at the tail.
    i = tail_;
    --free_count_;
  } else if (entries_.size() < capacity_) {
    entries_.emplace_back();
    return static_cast<std::uint32_t>(entries_.size() - 1);
  } else {
    i = tail_;
  }
  unlink(i);
  return i;
}

const crypto::AeadContext* AeadCache::get_slow(Ref& ref_, const EpochMaterial& m, MessageType direction) {
  const int d = direction == MessageType::kUplink ? 0 : 1;
  std::uint32_t i = ref_.index;
  if (i < entries_.size() && ref_.tag != 0 && entries_[i].tag == ref_.tag) {
    if (i != head_) {
      unlink(i);
      push_front(i);
    }
    if (entries_[i].keyed[d]) return &*entries_[i].ctx[d];
  } else {
    ++misses_;
    i = take_entry();
    Entry& e = entries_[i];
    e.tag = ++next_tag_;
    e.keyed[0] = e.keyed[1] = false;
    // The other direction's context still holds the previous epoch's key:
    // freed rather than left keyed (it is rarely needed: commands only).
    e.ctx[1 - d].reset();
    push_front(i);
    ref_ = {i, e.tag};
  }
  Entry& e = entries_[i];
  const crypto::AeadSpec spec = crypto::spec_of(m.alg());
  auto& ctx = e.ctx[d];
  const bool same_spec = ctx && ctx->spec().cipher == spec.cipher && ctx->spec().key_len == spec.key_len &&
                         ctx->spec().nonce_len == spec.nonce_len && ctx->spec().tag_len == spec.tag_len;
  bool ok = same_spec && ctx->rekey(m.key(direction)).has_value();
  if (!ok) {
    auto fresh = crypto::AeadContext::create(spec, m.key(direction),
                                             d == 0 ? crypto::AeadUse::kOpenOnly : crypto::AeadUse::kSealOnly);
    ok = fresh.has_value();
    if (ok) ctx.emplace(std::move(*fresh));
  }
  if (!ok) {
    forget(ref_);
    return nullptr;
  }
  e.keyed[d] = true;
  return &*ctx;
}

void AeadCache::forget(Ref& ref_) {
  const Ref ref = ref_;
  ref_ = {};
  if (ref.index >= entries_.size() || ref.tag == 0 || entries_[ref.index].tag != ref.tag) return;
  Entry& e = entries_[ref.index];
  e.tag = 0;
  e.keyed[0] = e.keyed[1] = false;
  e.ctx[0].reset();
  e.ctx[1].reset();
  // To the tail: the next miss takes it before evicting anything live.
  unlink(ref.index);
  e.prev = tail_;
  if (tail_ != kNone) entries_[tail_].next = ref.index;
  tail_ = ref.index;
  if (head_ == kNone) head_ = ref.index;
  ++free_count_;
}

}  // namespace armored::e3::internal
