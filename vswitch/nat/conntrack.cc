#include "vswitch/nat/conntrack.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace podvs {
namespace {

uint32_t ref_of(uint32_t index, ConnDir dir) { return index * 2 + static_cast<uint32_t>(dir); }

}  // namespace

ConnTrack::ConnTrack(uint32_t capacity, uint64_t tsc_hz, const ConnTimeouts& t) {
  if (capacity < 1 || capacity > kMaxCapacity)
    throw std::invalid_argument("conntrack capacity must be between 1 and " +
                                std::to_string(kMaxCapacity) + " entries, got " +
                                std::to_string(capacity));
  if (tsc_hz == 0) throw std::invalid_argument("conntrack needs the TSC frequency, got 0 Hz");
  entries_.resize(capacity);
  free_.reserve(capacity);
  // Pushed in reverse so that entries are handed out from the start of the array.
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
  // 8 slots (one bucket) per entry; at least two buckets so that every tuple has two.
  const uint32_t buckets = std::bit_ceil(std::max(capacity, 2u));
  buckets_.resize(buckets);
  for (Bucket& b : buckets_) std::fill(std::begin(b.ref), std::end(b.ref), kEmpty);
  bucket_mask_ = buckets - 1;

  const auto cycles = [tsc_hz](uint32_t seconds) { return seconds * tsc_hz; };
  const uint64_t syn_sent = cycles(t.tcp_syn_sent);
  tcp_timeout_ = {syn_sent,
                  syn_sent,
                  cycles(t.tcp_syn_recv),
                  cycles(t.tcp_established),
                  cycles(t.tcp_fin_wait),
                  cycles(t.tcp_time_wait),
                  cycles(t.tcp_closed)};
  static_assert(static_cast<unsigned>(TcpState::closed) == kNumTcpStates - 1);
  udp_unreplied_timeout_ = cycles(t.udp_unreplied);
  udp_replied_timeout_ = cycles(t.udp_replied);
  icmp_timeout_ = cycles(t.icmp);
}

// The first bucket from the low bits; the second differs from it in bit 0 at least, and in the
// others by higher hash bits, so the two are never the same bucket.
std::array<uint32_t, 2> ConnTrack::buckets_of(uint32_t hash) const {
  const uint32_t first = hash & bucket_mask_;
  return {first, (first ^ ((hash >> 16) | 1u)) & bucket_mask_};
}

ConnTrack::SlotPos ConnTrack::find(const ConnTuple& tuple, uint32_t hash) {
  for (uint32_t b : buckets_of(hash)) {
    Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; ++s) {
      if (bucket.hash[s] != hash || bucket.ref[s] == kEmpty) continue;
      const uint32_t ref = bucket.ref[s];
      if (entries_[ref / 2].tuple(static_cast<ConnDir>(ref & 1)) == tuple) return {&bucket, s};
    }
  }
  return {};
}

// A free slot in the emptier of the tuple's two buckets.
ConnTrack::SlotPos ConnTrack::free_slot(uint32_t hash) {
  SlotPos best;
  unsigned best_free = 0;
  for (uint32_t b : buckets_of(hash)) {
    Bucket& bucket = buckets_[b];
    unsigned n = 0;
    unsigned slot = 0;
    for (unsigned s = 0; s < kSlots; ++s)
      if (bucket.ref[s] == kEmpty && n++ == 0) slot = s;
    if (n > best_free) {
      best = {&bucket, slot};
      best_free = n;
    }
  }
  return best;
}

ConnLookup ConnTrack::lookup(const ConnTuple& tuple, uint64_t now) {
  const SlotPos pos = find(tuple, conn_tuple_hash(tuple));
  if (pos.bucket == nullptr) return {};
  const uint32_t ref = pos.bucket->ref[pos.slot];
  ConnEntry& e = entries_[ref / 2];
  if (expired(e, now)) {
    remove(&e);
    return {};
  }
  return {&e, static_cast<ConnDir>(ref & 1)};
}

ConnEntry* ConnTrack::create(const ConnTuple& orig, const ConnTuple& reply, const NatSpec& nat,
                             uint64_t now) {
  const uint32_t orig_hash = conn_tuple_hash(orig);
  const uint32_t reply_hash = conn_tuple_hash(reply);
  if (!clear_expired_holder(orig, orig_hash, now) || !clear_expired_holder(reply, reply_hash, now))
    return nullptr;
  if (!insert(orig_hash, reply_hash)) {
    remove_expired(orig_hash, now);
    remove_expired(reply_hash, now);
    if (!insert(orig_hash, reply_hash)) return nullptr;
  }
  ConnEntry& e = entries_[free_.back()];
  free_.pop_back();
  e.tuples_ = {orig, reply};
  e.nat_ = nat;
  e.last_seen_ = now;
  e.cookie_ = 0;
  e.tcp_state_ = TcpState::none;
  e.fin_seen_ = 0;
  e.replied_ = false;
  e.in_use_ = true;
  return &e;
}

// Indexes both directions of the entry on top of the free list, or changes nothing and returns
// false.
bool ConnTrack::insert(uint32_t orig_hash, uint32_t reply_hash) {
  if (free_.empty()) return false;
  const uint32_t index = free_.back();
  const SlotPos o = free_slot(orig_hash);
  if (o.bucket == nullptr) return false;
  o.bucket->hash[o.slot] = orig_hash;
  o.bucket->ref[o.slot] = ref_of(index, ConnDir::original);
  const SlotPos r = free_slot(reply_hash);
  if (r.bucket == nullptr) {
    o.bucket->ref[o.slot] = kEmpty;
    return false;
  }
  r.bucket->hash[r.slot] = reply_hash;
  r.bucket->ref[r.slot] = ref_of(index, ConnDir::reply);
  return true;
}

// False when a live entry holds `tuple`; an expired one is removed.
bool ConnTrack::clear_expired_holder(const ConnTuple& tuple, uint32_t hash, uint64_t now) {
  const SlotPos pos = find(tuple, hash);
  if (pos.bucket == nullptr) return true;
  ConnEntry& e = entries_[pos.bucket->ref[pos.slot] / 2];
  if (!expired(e, now)) return false;
  remove(&e);
  return true;
}

// Removes the expired entries indexed in the buckets of `hash`.
void ConnTrack::remove_expired(uint32_t hash, uint64_t now) {
  for (uint32_t b : buckets_of(hash)) {
    const Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; ++s) {
      if (bucket.ref[s] == kEmpty) continue;
      ConnEntry& e = entries_[bucket.ref[s] / 2];
      if (expired(e, now)) remove(&e);
    }
  }
}

void ConnTrack::update(ConnEntry* e, ConnDir dir, uint8_t tcp_flags, uint64_t now) {
  e->last_seen_ = now;
  if (dir == ConnDir::reply) e->replied_ = true;
  if (e->tuples_[0].proto == IPPROTO_TCP)
    e->tcp_state_ = tcp_next_state(e->tcp_state_, e->fin_seen_, dir, tcp_flags);
}

void ConnTrack::remove(ConnEntry* e) {
  const auto index = static_cast<uint32_t>(e - entries_.data());
  for (ConnDir dir : {ConnDir::original, ConnDir::reply}) {
    const uint32_t ref = ref_of(index, dir);
    for (uint32_t b : buckets_of(conn_tuple_hash(e->tuple(dir))))
      for (uint32_t& slot_ref : buckets_[b].ref)
        if (slot_ref == ref) slot_ref = kEmpty;
  }
  e->in_use_ = false;
  free_.push_back(index);
}

uint32_t ConnTrack::expire(uint64_t now, uint32_t budget) {
  uint32_t removed = 0;
  for (; budget > 0; --budget) {
    ConnEntry& e = entries_[expire_cursor_];
    expire_cursor_ = expire_cursor_ + 1 == capacity() ? 0 : expire_cursor_ + 1;
    if (e.in_use_ && expired(e, now)) {
      remove(&e);
      ++removed;
    }
  }
  return removed;
}

// An entry is alive up to and including `timeout` cycles after it was last seen. TSC readings of
// one core never go back, but a caller's stale `now` must not make an entry look ancient.
bool ConnTrack::expired(const ConnEntry& e, uint64_t now) const {
  return now > e.last_seen_ && now - e.last_seen_ > timeout(e);
}

uint64_t ConnTrack::timeout(const ConnEntry& e) const {
  switch (e.tuples_[0].proto) {
    case IPPROTO_TCP:
      return tcp_timeout_[static_cast<unsigned>(e.tcp_state_)];
    case IPPROTO_ICMP:
      return icmp_timeout_;
    default:
      return e.replied_ ? udp_replied_timeout_ : udp_unreplied_timeout_;
  }
}

}  // namespace podvs
