// Connection tracking: one entry per connection, found by the tuple of either direction, holding
// the NAT the connection was given (masquerade, Service DNAT) so that every later packet, replies
// included, is translated the same way, and aging the connection by its protocol state.
//
// One ConnTable is shared by all workers, because the two directions of a connection may arrive
// on different workers (a pod's rx queue on one, the uplink's or the endpoint's on another).
// Each worker works on it through its own ConnTrack. Why a shared table rather than handing a
// packet to the worker that owns its connection (VPP NAT44-ED): a hand-off needs the owner from
// the packet alone, which the SNAT port gives for masquerade replies but nothing gives for the
// replies of a ClusterIP connection without SNAT (backend to client: neither address nor port
// says which worker created it), so a shared lookup would be needed there anyway; and a hand-off
// moves every such packet to another core (its mbuf's cache lines, a ring's head and tail),
// where a shared table moves only the entry's lines, which established flows do not write (see
// update()). So: every worker reads every entry, without a lock.
//
// Who writes what, and how readers stay safe:
// - The index (64-byte buckets of 8 slots: a 32-bit hash and a reference to an entry and a
//   direction) is written only under the spin locks of the buckets touched, taken in ascending
//   order (create() and remove(), i.e. new and ending connections); lookups take no lock: a slot's
//   reference is stored with release after the entry was filled, and loaded with acquire.
// - An entry's tuples and NAT are written once, before it is published, and read-only after.
//   What packets change (last seen, TCP state, replied, cookie) are relaxed atomics any worker
//   may write; TCP state and the FIN bits move together by compare-and-swap.
// - Entries are split evenly among the workers (worker w owns the w-th slice of the array): a
//   worker creates connections from its own free list only, so "full" means what it meant when
//   each worker had its own table (conntrack_entries per worker), and no free list is shared.
// - Any worker may remove any entry (an expired one it looks up, a stale Service connection):
//   it claims it (live -> unlinking, compare-and-swap: one remover wins), clears its slots, and
//   marks it retired; the owner's aging sweep picks retired entries up. The owner puts its
//   entries back on its free list only after an RCU grace period (rte_rcu_qsbr: the workers'
//   quiescent state at the end of each poll loop), so no worker can still be reading one.
// - A table made without an rte_rcu_qsbr has one worker and no other reader: it frees at once.
// Nothing allocates after construction; memory is freed by the destructor, once workers stopped.
//
// Layout: a tuple may sit in either of two buckets picked from its hash and goes to the emptier
// one ("power of two choices", cuckoo hashing without the displacements), so a lookup reads at
// most two cache lines of index and one entry per full-hash match. The index has 8 slots per
// entry, so it is at most a quarter full and a bucket pair is full only with negligible
// probability; if it ever is, creation fails like a full table, and no lookup probes further.
#pragma once

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "vswitch/conn_tuple.h"
#include "vswitch/nat/tcp_conn_state.h"
#include "vswitch/spin_lock.h"

namespace podvs {

// Idle time after which an entry goes, in seconds, per protocol state. Linux nf_conntrack's
// defaults except tcp_established: 7440 s (2 h 4 min) is the minimum RFC 5382 REQ-5 allows a NAT,
// where Linux's 5 days would let dead connections hold SNAT ports.
struct ConnTimeouts {
  uint32_t tcp_syn_sent = 120;  // also a TCP entry no packet has updated yet
  uint32_t tcp_syn_recv = 60;
  uint32_t tcp_established = 7440;
  uint32_t tcp_fin_wait = 120;
  uint32_t tcp_time_wait = 120;
  uint32_t tcp_closed = 10;
  uint32_t udp_unreplied = 30;  // UDP and every protocol but TCP and ICMP
  uint32_t udp_replied = 120;
  uint32_t icmp = 30;
};

// A tracked connection. The table owns every field but the cookie, the caller's to use (the
// Service table version it was last found valid in).
// One cache line each: entries of different connections never share one.
class alignas(RTE_CACHE_LINE_SIZE) ConnEntry {
 public:
  // Original: as the first packet was seen. Reply: what a reply looks like on the wire after the
  // original direction's translation (nat_reply_tuple).
  const ConnTuple& tuple(ConnDir dir) const { return tuples_[static_cast<unsigned>(dir)]; }
  const NatSpec& nat() const { return nat_; }
  TcpState tcp_state() const {
    return static_cast<TcpState>(tcp_.load(std::memory_order_relaxed) & 0xff);
  }
  bool replied() const { return replied_.load(std::memory_order_relaxed); }
  uint64_t last_seen() const { return last_seen_.load(std::memory_order_relaxed); }  // TSC
  uint32_t cookie() const { return cookie_.load(std::memory_order_relaxed); }
  void set_cookie(uint32_t cookie) { cookie_.store(cookie, std::memory_order_relaxed); }

 private:
  friend class ConnTable;
  enum State : uint8_t { kFree, kLive, kUnlinking, kRetired };
  std::array<ConnTuple, 2> tuples_{};
  NatSpec nat_;
  std::atomic<uint64_t> last_seen_{0};
  std::atomic<uint32_t> cookie_{0};
  std::atomic<uint16_t> tcp_{0};  // TcpState | fin_seen << 8 (bit 1 << ConnDir: sent FIN)
  std::atomic<bool> replied_{false};
  std::atomic<uint8_t> state_{kFree};
};
static_assert(sizeof(ConnEntry) == RTE_CACHE_LINE_SIZE);

struct ConnLookup {
  ConnEntry* entry = nullptr;  // null: not tracked
  ConnDir dir = ConnDir::original;
};

// The table all workers share; use it through a ConnTrack per worker.
class ConnTable {
 public:
  // Throws std::invalid_argument unless 1 <= capacity_per_worker, 1 <= workers,
  // capacity_per_worker * workers <= kMaxCapacity and tsc_hz > 0. `qsbr`: the RCU every worker
  // using the table reports its quiescent states to (thread id = worker index); null only with
  // one worker.
  ConnTable(uint32_t capacity_per_worker, uint32_t workers, uint64_t tsc_hz, rte_rcu_qsbr* qsbr,
            const ConnTimeouts& timeouts = {});
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;
  static constexpr uint32_t kMaxCapacity = 1u << 24;

  ConnLookup lookup(uint32_t worker, const ConnTuple& tuple, uint64_t now);
  ConnEntry* create(uint32_t worker, const ConnTuple& orig, const ConnTuple& reply,
                    const NatSpec& nat, uint64_t now);
  void update(ConnEntry* entry, ConnDir dir, uint8_t tcp_flags, uint64_t now);
  void remove(uint32_t worker, ConnEntry* entry);
  uint32_t expire(uint32_t worker, uint64_t now, uint32_t budget);

  // Entries of `worker`'s share in use (live, or removed and waiting for their grace period).
  uint32_t size(uint32_t worker) const {
    return pools_[worker].used.load(std::memory_order_relaxed);
  }
  // Whether no worker has an entry: a reply needs no lookup then. Reads one line per worker.
  bool empty() const;
  uint32_t capacity_per_worker() const { return per_worker_; }
  uint32_t workers() const { return workers_; }

 private:
  static constexpr unsigned kSlots = 8;
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // Bucket locks are striped: one per bucket up to this many, each on its own cache line.
  static constexpr uint32_t kMaxLocks = 4096;
  struct alignas(RTE_CACHE_LINE_SIZE) Bucket {
    std::atomic<uint32_t> hash[kSlots];
    std::atomic<uint32_t> ref[kSlots];  // entry index * 2 + ConnDir, or kEmpty
  };
  static_assert(sizeof(Bucket) == RTE_CACHE_LINE_SIZE);
  struct alignas(RTE_CACHE_LINE_SIZE) BucketLock {
    SpinLock lock;
  };
  struct SlotPos {
    Bucket* bucket = nullptr;  // null: none
    unsigned slot = 0;
    uint32_t ref = kEmpty;  // what the slot held when found
  };
  struct Retired {
    uint32_t index;
    uint64_t token;  // rte_rcu_qsbr_start() when it was unlinked
  };
  // A worker's share; written by that worker only, but for `used`, which others read.
  struct alignas(RTE_CACHE_LINE_SIZE) Pool {
    std::vector<uint32_t> free;  // stack of unused entries
    std::vector<Retired> limbo;  // FIFO ring of unlinked entries waiting for a grace period
    uint32_t limbo_head = 0;
    uint32_t limbo_count = 0;
    uint32_t expire_cursor = 0;  // offset in the share
    std::atomic<uint32_t> used{0};
  };
  class Locked;  // the bucket locks of up to two tuples, taken in order
  // Entries to remove once the bucket locks are released (removing takes its own locks): at most
  // every slot of the four buckets of two tuples.
  struct Stale {
    std::array<ConnEntry*, 4 * kSlots> entries;
    unsigned count = 0;
  };

  std::array<uint32_t, 2> buckets_of(uint32_t hash) const;
  SlotPos find(const ConnTuple& tuple, uint32_t hash);
  SlotPos free_slot(uint32_t hash, SlotPos taken) const;
  bool holder_blocks(const ConnTuple& tuple, uint32_t hash, uint64_t now, Stale& stale);
  void collect_expired(uint32_t hash, uint64_t now, Stale& stale);
  void retire(Pool& pool, uint32_t index);
  void reclaim(Pool& pool);
  uint32_t owner(uint32_t index) const { return index / per_worker_; }
  uint32_t index_of(const ConnEntry* e) const { return static_cast<uint32_t>(e - entries_.get()); }
  bool expired(const ConnEntry& e, uint64_t now) const;
  uint64_t timeout(const ConnEntry& e) const;

  const uint32_t per_worker_;
  const uint32_t workers_;
  rte_rcu_qsbr* const qsbr_;
  std::unique_ptr<ConnEntry[]> entries_;
  std::unique_ptr<Bucket[]> buckets_;
  uint32_t bucket_mask_;
  std::unique_ptr<BucketLock[]> locks_;
  uint32_t lock_mask_;
  std::unique_ptr<Pool[]> pools_;
  uint64_t refresh_cycles_;  // last_seen is rewritten only when it is older than this
  std::array<uint64_t, kNumTcpStates> tcp_timeout_;  // TSC cycles, by TcpState
  uint64_t udp_unreplied_timeout_;
  uint64_t udp_replied_timeout_;
  uint64_t icmp_timeout_;
};

// One worker's view of the shared table: what the stages call.
class ConnTrack {
 public:
  // A table of its own with one worker and no other reader (tests, tools).
  // Throws std::invalid_argument unless 1 <= capacity <= kMaxCapacity and tsc_hz > 0.
  ConnTrack(uint32_t capacity, uint64_t tsc_hz, const ConnTimeouts& timeouts = {});
  ConnTrack(ConnTable& table, uint32_t worker) : table_(&table), worker_(worker) {}
  static constexpr uint32_t kMaxCapacity = ConnTable::kMaxCapacity;

  // The live entry holding `tuple` in either direction, and which direction it is. An expired
  // entry found on the way is removed and reported absent.
  ConnLookup lookup(const ConnTuple& tuple, uint64_t now) {
    return table_->lookup(worker_, tuple, now);
  }

  // A new entry for a connection not tracked yet (look `orig` up first; for NAT, `reply` must be
  // free too: SnatPortAllocator picks SNAT ports so). Returns nullptr, with nothing changed but
  // expired entries removed, when this worker's share is full even after removing the expired
  // entries in the two tuples' buckets, or when a live entry already holds either tuple (another
  // worker may have created it a moment ago). The caller counts the drop. The entry starts as
  // last seen `now`; call update() for its first packet too.
  ConnEntry* create(const ConnTuple& orig, const ConnTuple& reply, const NatSpec& nat,
                    uint64_t now) {
    return table_->create(worker_, orig, reply, nat, now);
  }

  // Records a packet of the connection travelling in `dir`: the time, whether a reply has been
  // seen and, for TCP, the state after `tcp_flags` (RTE_TCP_*_FLAG; ignored for other protocols).
  void update(ConnEntry* entry, ConnDir dir, uint8_t tcp_flags, uint64_t now) {
    table_->update(entry, dir, tcp_flags, now);
  }

  // Removes the entry from the index at once; its memory is reused after a grace period. Does
  // nothing when another worker is removing it.
  void remove(ConnEntry* entry) { table_->remove(worker_, entry); }

  // Ages this worker's share a little: looks at its next `budget` entries (round robin), removes
  // those that expired and takes back those others removed. Returns how many it removed. One pass
  // over capacity() entries sees them all.
  uint32_t expire(uint64_t now, uint32_t budget) { return table_->expire(worker_, now, budget); }

  uint32_t size() const { return table_->size(worker_); }  // this worker's share in use
  uint32_t capacity() const { return table_->capacity_per_worker(); }
  bool table_empty() const { return table_->empty(); }  // no worker tracks anything

 private:
  std::unique_ptr<ConnTable> owned_;  // for a table of its own
  ConnTable* table_;
  uint32_t worker_ = 0;
};

}  // namespace podvs
