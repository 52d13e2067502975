// ClientIP session affinity (Kubernetes sessionAffinity: ClientIP): remembers which backend a
// client was last sent to for each Service frontend, so that its new connections go to the same
// backend until it has opened none for the affinity timeout.
//
// Concurrency: one table for all workers (SharedConnState), so that a client sticks to one
// backend whichever worker sees its next connection. Every operation takes one spin lock and
// copies out what it found; only new connections to a Service with affinity (and the aging, which
// skips its turn rather than wait) come here, never a packet of an established connection, and a
// critical section is one or two cache lines of index and an entry. One lock is the simple choice
// at the connection rates of a node; if many workers opening affinity connections ever contend
// on it, striping it by bucket as conntrack.h does is the next step. The control thread never
// touches the table while workers run. All memory is allocated by the constructor and freed by
// the destructor, after the workers have stopped; nothing allocates on the fast path.
//
// Layout: ConnTrack's. Entries (24 bytes) live in a fixed array with a free list; an index of
// 64-byte buckets of 8 slots (a 32-bit hash and an entry index) points at them. A key may sit in
// either of two buckets picked from its hash and goes to the emptier one, so a lookup reads one
// or two index cache lines and then only the entry whose full hash matches. Entries inline in the
// buckets would fit only two to a cache line, and two-slot buckets overflow at modest load; the
// index instead has four slots per entry, so a bucket pair is full only with negligible
// probability (then remember() fails like a full table).
#pragma once

#include <rte_byteorder.h>
#include <rte_common.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "vswitch/spin_lock.h"

namespace podvs {

// Where a client's connections to a frontend go, and until when (TSC). Read-only for users.
class AffinityEntry {
 public:
  rte_be32_t client() const { return client_; }
  uint32_t frontend() const { return frontend_; }
  rte_be32_t backend_ip() const { return backend_ip_; }
  rte_be16_t backend_port() const { return backend_port_; }
  // The last TSC reading at which the entry holds; it is gone after it.
  uint64_t deadline() const { return deadline_; }

 private:
  friend class AffinityTable;
  rte_be32_t client_ = 0;
  uint32_t frontend_ = 0;
  rte_be32_t backend_ip_ = 0;
  rte_be16_t backend_port_ = 0;
  bool in_use_ = false;
  uint64_t deadline_ = 0;
};

class AffinityTable {
 public:
  // Throws std::invalid_argument unless 1 <= capacity <= kMaxCapacity.
  explicit AffinityTable(uint32_t capacity);
  static constexpr uint32_t kMaxCapacity = 1u << 24;

  // A copy of the entry for the client and frontend, or nullopt when there is none or `now` is
  // past its deadline. It does not extend the deadline: remember() the backend for each new
  // connection.
  std::optional<AffinityEntry> lookup(rte_be32_t client, uint32_t frontend, uint64_t now) const;

  // Sends the client's connections to the frontend to backend_ip:backend_port until
  // now + timeout_tsc, inserting the entry or refreshing it (backend included). Returns false,
  // changing nothing but removing expired entries, when no slot is free even after removing the
  // expired entries in the key's two buckets; the caller counts it.
  bool remember(rte_be32_t client, uint32_t frontend, rte_be32_t backend_ip,
                rte_be16_t backend_port, uint64_t now, uint64_t timeout_tsc);

  // Removes the entry, if any.
  void forget(rte_be32_t client, uint32_t frontend);

  // Ages the table a little: looks at the next `budget` entries (round robin) and removes those
  // past their deadline. Returns how many it removed. One pass over capacity() entries sees them
  // all. Does nothing when another worker holds the table: a later call will age it.
  uint32_t expire(uint64_t now, uint32_t budget);

  uint32_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return static_cast<uint32_t>(entries_.size()); }

 private:
  static constexpr unsigned kSlots = 8;
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct alignas(RTE_CACHE_LINE_SIZE) Bucket {
    uint32_t hash[kSlots];
    uint32_t index[kSlots];  // into entries_, or kEmpty
  };
  static_assert(sizeof(Bucket) == RTE_CACHE_LINE_SIZE);

  struct SlotPos {
    uint32_t bucket = kEmpty;  // kEmpty: none
    unsigned slot = 0;
  };

  static uint32_t hash_of(rte_be32_t client, uint32_t frontend);
  std::array<uint32_t, 2> buckets_of(uint32_t hash) const;
  SlotPos find(rte_be32_t client, uint32_t frontend, uint32_t hash) const;
  SlotPos free_slot(uint32_t hash) const;
  bool insert(uint32_t hash, const AffinityEntry& entry);
  void remove_expired(uint32_t hash, uint64_t now);
  void remove(SlotPos pos);
  void count();

  mutable SpinLock lock_;          // guards everything below
  std::atomic<uint32_t> size_{0};  // entries in use, for size() without the lock

  std::vector<AffinityEntry> entries_;
  std::vector<uint32_t> free_;  // indexes of unused entries, used as a stack
  std::vector<Bucket> buckets_;
  uint32_t bucket_mask_;
  uint32_t expire_cursor_ = 0;
};

}  // namespace podvs
