#include "vswitch/nat/conntrack.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

#include "base/rcu_grace.h"

namespace podvs {
namespace {

uint32_t ref_of(uint32_t index, ConnDir dir) { return index * 2 + static_cast<uint32_t>(dir); }

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;

}  // namespace

// The locks of the buckets of one or two tuples (up to four stripes), taken in ascending order so
// that two writers never wait for each other in a cycle.
class ConnTable::Locked {
 public:
  Locked(ConnTable& t, uint32_t hash_a, uint32_t hash_b) : t_(t) {
    const auto a = t.buckets_of(hash_a);
    const auto b = t.buckets_of(hash_b);
    // Insertion into a sorted set of at most four.
    for (uint32_t bucket : {a[0], a[1], b[0], b[1]}) {
      const uint32_t stripe = bucket & t.lock_mask_;
      unsigned i = 0;
      while (i < count_ && stripes_[i] < stripe) ++i;
      if (i < count_ && stripes_[i] == stripe) continue;
      for (unsigned j = count_; j > i; --j) stripes_[j] = stripes_[j - 1];
      stripes_[i] = stripe;
      ++count_;
    }
    for (unsigned i = 0; i < count_; ++i) t_.locks_[stripes_[i]].lock.lock();
  }
  ~Locked() {
    for (unsigned i = count_; i > 0; --i) t_.locks_[stripes_[i - 1]].lock.unlock();
  }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;

 private:
  ConnTable& t_;
  std::array<uint32_t, 4> stripes_{};
  unsigned count_ = 0;
};

ConnTable::ConnTable(uint32_t capacity_per_worker, uint32_t workers, uint64_t tsc_hz,
                     rte_rcu_qsbr* qsbr, const ConnTimeouts& t)
    : per_worker_(capacity_per_worker), workers_(workers), qsbr_(qsbr) {
  if (capacity_per_worker < 1 || workers < 1 ||
      uint64_t{capacity_per_worker} * workers > kMaxCapacity)
    throw std::invalid_argument("conntrack capacity must be between 1 and " +
                                std::to_string(kMaxCapacity) + " entries in all, got " +
                                std::to_string(capacity_per_worker) + " for each of " +
                                std::to_string(workers) + " workers");
  if (tsc_hz == 0) throw std::invalid_argument("conntrack needs the TSC frequency, got 0 Hz");
  if (qsbr == nullptr && workers != 1)
    throw std::invalid_argument("a conntrack table shared by " + std::to_string(workers) +
                                " workers needs their RCU to free entries");
  const uint32_t capacity = capacity_per_worker * workers;
  entries_ = std::make_unique<ConnEntry[]>(capacity);
  pools_ = std::make_unique<Pool[]>(workers);
  for (uint32_t w = 0; w < workers; ++w) {
    Pool& pool = pools_[w];
    pool.free.reserve(capacity_per_worker);
    // Pushed in reverse so that entries are handed out from the start of the share.
    for (uint32_t i = capacity_per_worker; i > 0; --i)
      pool.free.push_back(w * capacity_per_worker + i - 1);
    pool.limbo.resize(capacity_per_worker);
  }
  // 8 slots (one bucket) per entry; at least two buckets so that every tuple has two.
  const uint32_t buckets = std::bit_ceil(std::max(capacity, 2u));
  buckets_ = std::make_unique<Bucket[]>(buckets);
  for (uint32_t b = 0; b < buckets; ++b)
    for (auto& ref : buckets_[b].ref) ref.store(kEmpty, kRelaxed);
  bucket_mask_ = buckets - 1;
  const uint32_t locks = std::min(buckets, kMaxLocks);
  locks_ = std::make_unique<BucketLock[]>(locks);
  lock_mask_ = locks - 1;

  // Timeouts are seconds; a millisecond's staleness changes no expiry but spares a shared entry
  // a write from every packet of a busy connection.
  refresh_cycles_ = tsc_hz / 1024;
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
std::array<uint32_t, 2> ConnTable::buckets_of(uint32_t hash) const {
  const uint32_t first = hash & bucket_mask_;
  return {first, (first ^ ((hash >> 16) | 1u)) & bucket_mask_};
}

// Lock-free: an entry seen through a slot stays readable until this worker's next quiescent
// state; one that is not live (being removed, or freed) is skipped, so a tuple re-created while
// its old entry is on its way out is found in its new entry.
ConnTable::SlotPos ConnTable::find(const ConnTuple& tuple, uint32_t hash) {
  for (uint32_t b : buckets_of(hash)) {
    Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots; ++s) {
      const uint32_t ref = bucket.ref[s].load(kAcquire);
      if (ref == kEmpty || bucket.hash[s].load(kRelaxed) != hash) continue;
      const ConnEntry& e = entries_[ref / 2];
      if (e.state_.load(kAcquire) == ConnEntry::kLive &&
          e.tuple(static_cast<ConnDir>(ref & 1)) == tuple)
        return {&bucket, s, ref};
    }
  }
  return {};
}

// Under the bucket locks: a free slot in the emptier of the tuple's two buckets, other than
// `taken` (claimed for the other direction but not yet published).
ConnTable::SlotPos ConnTable::free_slot(uint32_t hash, SlotPos taken) const {
  SlotPos best;
  unsigned best_free = 0;
  for (uint32_t b : buckets_of(hash)) {
    Bucket& bucket = buckets_[b];
    unsigned n = 0;
    unsigned slot = 0;
    for (unsigned s = 0; s < kSlots; ++s) {
      if (bucket.ref[s].load(kRelaxed) != kEmpty || (taken.bucket == &bucket && taken.slot == s))
        continue;
      if (n++ == 0) slot = s;
    }
    if (n > best_free) {
      best = {&bucket, slot, kEmpty};
      best_free = n;
    }
  }
  return best;
}

ConnLookup ConnTable::lookup(uint32_t worker, const ConnTuple& tuple, uint64_t now) {
  const SlotPos pos = find(tuple, conn_tuple_hash(tuple));
  if (pos.bucket == nullptr) return {};
  ConnEntry& e = entries_[pos.ref / 2];
  if (expired(e, now)) {
    remove(worker, &e);
    return {};
  }
  return {&e, static_cast<ConnDir>(pos.ref & 1)};
}

// Under the bucket locks: whether a live entry holds `tuple`. An expired holder does not block;
// it is noted in `stale` for removal once the locks are released.
bool ConnTable::holder_blocks(const ConnTuple& tuple, uint32_t hash, uint64_t now, Stale& stale) {
  const SlotPos pos = find(tuple, hash);
  if (pos.bucket == nullptr) return false;
  ConnEntry& e = entries_[pos.ref / 2];
  if (!expired(e, now)) return true;
  stale.entries[stale.count++] = &e;
  return false;
}

// Under the bucket locks: the expired entries indexed in the buckets of `hash`.
void ConnTable::collect_expired(uint32_t hash, uint64_t now, Stale& stale) {
  for (uint32_t b : buckets_of(hash)) {
    const Bucket& bucket = buckets_[b];
    for (unsigned s = 0; s < kSlots && stale.count < stale.entries.size(); ++s) {
      const uint32_t ref = bucket.ref[s].load(kRelaxed);
      if (ref == kEmpty) continue;
      ConnEntry& e = entries_[ref / 2];
      if (e.state_.load(kAcquire) == ConnEntry::kLive && expired(e, now))
        stale.entries[stale.count++] = &e;
    }
  }
}

ConnEntry* ConnTable::create(uint32_t worker, const ConnTuple& orig, const ConnTuple& reply,
                             const NatSpec& nat, uint64_t now) {
  Pool& pool = pools_[worker];
  if (pool.free.empty()) reclaim(pool);
  const uint32_t orig_hash = conn_tuple_hash(orig);
  const uint32_t reply_hash = conn_tuple_hash(reply);
  // The second try comes after removing what was expired in the way; a third would find the
  // same.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Stale stale;
    {
      Locked locked(*this, orig_hash, reply_hash);
      if (holder_blocks(orig, orig_hash, now, stale) ||
          holder_blocks(reply, reply_hash, now, stale))
        return nullptr;
      if (stale.count == 0 && !pool.free.empty()) {
        const SlotPos o = free_slot(orig_hash, {});
        const SlotPos r = o.bucket != nullptr ? free_slot(reply_hash, o) : SlotPos{};
        if (r.bucket != nullptr) {
          const uint32_t index = pool.free.back();
          pool.free.pop_back();
          pool.used.store(per_worker_ - static_cast<uint32_t>(pool.free.size()), kRelaxed);
          ConnEntry& e = entries_[index];
          e.tuples_ = {orig, reply};
          e.nat_ = nat;
          e.last_seen_.store(now, kRelaxed);
          e.cookie_.store(0, kRelaxed);
          e.tcp_.store(static_cast<uint16_t>(TcpState::none), kRelaxed);
          e.replied_.store(false, kRelaxed);
          e.state_.store(ConnEntry::kLive, kRelaxed);
          // Published: the release stores make everything above visible to whoever finds a slot.
          o.bucket->hash[o.slot].store(orig_hash, kRelaxed);
          o.bucket->ref[o.slot].store(ref_of(index, ConnDir::original), kRelease);
          r.bucket->hash[r.slot].store(reply_hash, kRelaxed);
          r.bucket->ref[r.slot].store(ref_of(index, ConnDir::reply), kRelease);
          return &e;
        }
      }
      if (stale.count == 0) {
        collect_expired(orig_hash, now, stale);
        collect_expired(reply_hash, now, stale);
      }
    }
    if (stale.count == 0) break;
    for (unsigned i = 0; i < stale.count; ++i) remove(worker, stale.entries[i]);
    if (pool.free.empty()) reclaim(pool);
  }
  return nullptr;
}

void ConnTable::update(ConnEntry* e, ConnDir dir, uint8_t tcp_flags, uint64_t now) {
  // Each write is skipped when it would change nothing: an established connection's packets
  // then only read the entry, so the workers of its two directions do not pass its line back and
  // forth.
  if (now > e->last_seen_.load(kRelaxed) + refresh_cycles_) e->last_seen_.store(now, kRelaxed);
  if (dir == ConnDir::reply && !e->replied_.load(kRelaxed)) e->replied_.store(true, kRelaxed);
  if (e->tuples_[0].proto != IPPROTO_TCP) return;
  uint16_t seen = e->tcp_.load(kRelaxed);
  for (;;) {
    uint8_t fin_seen = static_cast<uint8_t>(seen >> 8);
    const TcpState next =
        tcp_next_state(static_cast<TcpState>(seen & 0xff), fin_seen, dir, tcp_flags);
    const auto want = static_cast<uint16_t>(static_cast<unsigned>(next) | fin_seen << 8);
    if (want == seen || e->tcp_.compare_exchange_weak(seen, want, kRelaxed)) return;
  }
}

void ConnTable::remove(uint32_t worker, ConnEntry* e) {
  uint8_t live = ConnEntry::kLive;
  if (!e->state_.compare_exchange_strong(live, ConnEntry::kUnlinking, std::memory_order_acq_rel))
    return;
  const uint32_t index = index_of(e);
  {
    Locked locked(*this, conn_tuple_hash(e->tuples_[0]), conn_tuple_hash(e->tuples_[1]));
    for (ConnDir dir : {ConnDir::original, ConnDir::reply}) {
      const uint32_t ref = ref_of(index, dir);
      for (uint32_t b : buckets_of(conn_tuple_hash(e->tuple(dir))))
        for (auto& slot_ref : buckets_[b].ref)
          if (slot_ref.load(kRelaxed) == ref) slot_ref.store(kEmpty, kRelease);
    }
  }
  if (owner(index) == worker)
    retire(pools_[worker], index);
  else
    e->state_.store(ConnEntry::kRetired, kRelease);  // for the owner's sweep
}

// An unlinked entry of `pool` waits for every worker to pass a quiescent state.
void ConnTable::retire(Pool& pool, uint32_t index) {
  entries_[index].state_.store(ConnEntry::kFree, kRelaxed);
  if (qsbr_ == nullptr) {
    pool.free.push_back(index);
    pool.used.store(per_worker_ - static_cast<uint32_t>(pool.free.size()), kRelaxed);
    return;
  }
  const uint32_t tail = (pool.limbo_head + pool.limbo_count) % per_worker_;
  pool.limbo[tail] = {index, rte_rcu_qsbr_start(qsbr_)};
  ++pool.limbo_count;
}

// Back on the free list: the retired entries whose grace period is over (tokens grow, so they
// are in order).
void ConnTable::reclaim(Pool& pool) {
  bool freed = false;
  while (pool.limbo_count != 0 &&
         rcu_grace_period_over(qsbr_, pool.limbo[pool.limbo_head].token)) {
    pool.free.push_back(pool.limbo[pool.limbo_head].index);
    pool.limbo_head = (pool.limbo_head + 1) % per_worker_;
    --pool.limbo_count;
    freed = true;
  }
  if (freed) pool.used.store(per_worker_ - static_cast<uint32_t>(pool.free.size()), kRelaxed);
}

uint32_t ConnTable::expire(uint32_t worker, uint64_t now, uint32_t budget) {
  Pool& pool = pools_[worker];
  reclaim(pool);
  uint32_t removed = 0;
  for (; budget > 0; --budget) {
    const uint32_t index = worker * per_worker_ + pool.expire_cursor;
    pool.expire_cursor = pool.expire_cursor + 1 == per_worker_ ? 0 : pool.expire_cursor + 1;
    ConnEntry& e = entries_[index];
    const uint8_t state = e.state_.load(kAcquire);
    if (state == ConnEntry::kRetired) {
      retire(pool, index);
    } else if (state == ConnEntry::kLive && expired(e, now)) {
      remove(worker, &e);
      ++removed;
    }
  }
  return removed;
}

bool ConnTable::empty() const {
  for (uint32_t w = 0; w < workers_; ++w)
    if (size(w) != 0) return false;
  return true;
}

// An entry is alive up to and including `timeout` cycles after it was last seen. TSC readings of
// one core never go back, but a caller's stale `now` (or another worker's later one) must not make
// an entry look ancient.
bool ConnTable::expired(const ConnEntry& e, uint64_t now) const {
  const uint64_t last = e.last_seen_.load(kRelaxed);
  return now > last && now - last > timeout(e);
}

uint64_t ConnTable::timeout(const ConnEntry& e) const {
  switch (e.tuples_[0].proto) {
    case IPPROTO_TCP:
      return tcp_timeout_[e.tcp_.load(kRelaxed) & 0xff];
    case IPPROTO_ICMP:
      return icmp_timeout_;
    default:
      return e.replied_.load(kRelaxed) ? udp_replied_timeout_ : udp_unreplied_timeout_;
  }
}

ConnTrack::ConnTrack(uint32_t capacity, uint64_t tsc_hz, const ConnTimeouts& timeouts)
    : owned_(std::make_unique<ConnTable>(capacity, 1, tsc_hz, nullptr, timeouts)),
      table_(owned_.get()) {}

}  // namespace podvs
