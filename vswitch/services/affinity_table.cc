#include "vswitch/services/affinity_table.h"

#include <rte_hash_crc.h>

#include <algorithm>
#include <bit>
#include <mutex>
#include <stdexcept>
#include <string>

namespace podvs {
namespace {

// Any fixed value: the table is private to one node, so nodes need not agree on it.
constexpr uint32_t kHashSeed = 0x61666669;  // "affi"

bool expired(const AffinityEntry& e, uint64_t now) { return now > e.deadline(); }

}  // namespace

AffinityTable::AffinityTable(uint32_t capacity) {
  if (capacity < 1 || capacity > kMaxCapacity)
    throw std::invalid_argument("affinity table capacity must be between 1 and " +
                                std::to_string(kMaxCapacity) + " entries, got " +
                                std::to_string(capacity));
  entries_.resize(capacity);
  free_.reserve(capacity);
  // Pushed in reverse so that entries are handed out from the start of the array.
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
  // Four index slots per entry (half a bucket); at least two buckets so that every key has two.
  const uint32_t buckets = std::bit_ceil(std::max((capacity + 1) / 2, 2u));
  buckets_.resize(buckets);
  for (Bucket& b : buckets_) std::fill(std::begin(b.index), std::end(b.index), kEmpty);
  bucket_mask_ = buckets - 1;
}

uint32_t AffinityTable::hash_of(rte_be32_t client, uint32_t frontend) {
  return rte_hash_crc_8byte((uint64_t{client} << 32) | frontend, kHashSeed);
}

// The first bucket from the low bits; the second differs from it in bit 0 at least, and in the
// others by higher hash bits, so the two are never the same bucket.
std::array<uint32_t, 2> AffinityTable::buckets_of(uint32_t hash) const {
  const uint32_t first = hash & bucket_mask_;
  return {first, (first ^ ((hash >> 16) | 1u)) & bucket_mask_};
}

AffinityTable::SlotPos AffinityTable::find(rte_be32_t client, uint32_t frontend,
                                           uint32_t hash) const {
  for (uint32_t b : buckets_of(hash)) {
    const Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; ++s) {
      if (bucket.hash[s] != hash || bucket.index[s] == kEmpty) continue;
      const AffinityEntry& e = entries_[bucket.index[s]];
      if (e.client_ == client && e.frontend_ == frontend) return {b, s};
    }
  }
  return {};
}

// A free slot in the emptier of the key's two buckets.
AffinityTable::SlotPos AffinityTable::free_slot(uint32_t hash) const {
  SlotPos best;
  unsigned best_free = 0;
  for (uint32_t b : buckets_of(hash)) {
    unsigned n = 0;
    unsigned slot = 0;
    for (unsigned s = 0; s < kSlots; ++s)
      if (buckets_[b].index[s] == kEmpty && n++ == 0) slot = s;
    if (n > best_free) {
      best = {b, slot};
      best_free = n;
    }
  }
  return best;
}

std::optional<AffinityEntry> AffinityTable::lookup(rte_be32_t client, uint32_t frontend,
                                                   uint64_t now) const {
  const std::lock_guard guard(lock_);
  const SlotPos pos = find(client, frontend, hash_of(client, frontend));
  if (pos.bucket == kEmpty) return std::nullopt;
  const AffinityEntry& e = entries_[buckets_[pos.bucket].index[pos.slot]];
  if (expired(e, now)) return std::nullopt;
  return e;
}

void AffinityTable::count() {
  size_.store(capacity() - static_cast<uint32_t>(free_.size()), std::memory_order_relaxed);
}

bool AffinityTable::remember(rte_be32_t client, uint32_t frontend, rte_be32_t backend_ip,
                             rte_be16_t backend_port, uint64_t now, uint64_t timeout_tsc) {
  AffinityEntry wanted;
  wanted.client_ = client;
  wanted.frontend_ = frontend;
  wanted.backend_ip_ = backend_ip;
  wanted.backend_port_ = backend_port;
  wanted.in_use_ = true;
  // Saturates: a timeout too long to add means "for as long as the TSC runs".
  wanted.deadline_ = timeout_tsc > UINT64_MAX - now ? UINT64_MAX : now + timeout_tsc;

  const uint32_t hash = hash_of(client, frontend);
  const std::lock_guard guard(lock_);
  const SlotPos pos = find(client, frontend, hash);
  if (pos.bucket != kEmpty) {
    // Live or expired, the entry for this key is the one to reuse: keys stay unique.
    entries_[buckets_[pos.bucket].index[pos.slot]] = wanted;
    return true;
  }
  bool inserted = insert(hash, wanted);
  if (!inserted) {
    remove_expired(hash, now);
    inserted = insert(hash, wanted);
  }
  count();
  return inserted;
}

// Stores the entry on top of the free list and indexes it, or changes nothing and returns false.
bool AffinityTable::insert(uint32_t hash, const AffinityEntry& entry) {
  if (free_.empty()) return false;
  const SlotPos pos = free_slot(hash);
  if (pos.bucket == kEmpty) return false;
  const uint32_t index = free_.back();
  free_.pop_back();
  entries_[index] = entry;
  buckets_[pos.bucket].hash[pos.slot] = hash;
  buckets_[pos.bucket].index[pos.slot] = index;
  return true;
}

void AffinityTable::forget(rte_be32_t client, uint32_t frontend) {
  const std::lock_guard guard(lock_);
  const SlotPos pos = find(client, frontend, hash_of(client, frontend));
  if (pos.bucket != kEmpty) remove(pos);
  count();
}

// Removes the expired entries indexed in the buckets of `hash`.
void AffinityTable::remove_expired(uint32_t hash, uint64_t now) {
  for (uint32_t b : buckets_of(hash))
    for (unsigned s = 0; s < kSlots; ++s)
      if (buckets_[b].index[s] != kEmpty && expired(entries_[buckets_[b].index[s]], now))
        remove({b, s});
}

void AffinityTable::remove(SlotPos pos) {
  uint32_t& index = buckets_[pos.bucket].index[pos.slot];
  entries_[index].in_use_ = false;
  free_.push_back(index);
  index = kEmpty;
}

uint32_t AffinityTable::expire(uint64_t now, uint32_t budget) {
  const std::unique_lock guard(lock_, std::try_to_lock);
  if (!guard.owns_lock()) return 0;
  uint32_t removed = 0;
  for (; budget > 0; --budget) {
    const AffinityEntry& e = entries_[expire_cursor_];
    expire_cursor_ = expire_cursor_ + 1 == capacity() ? 0 : expire_cursor_ + 1;
    if (e.in_use_ && expired(e, now)) {
      // Keys are unique, so the key's slot is this entry's.
      remove(find(e.client_, e.frontend_, hash_of(e.client_, e.frontend_)));
      ++removed;
    }
  }
  if (removed != 0) count();
  return removed;
}

}  // namespace podvs
