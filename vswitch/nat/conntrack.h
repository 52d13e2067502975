// Connection tracking: one entry per connection, found by the tuple of either direction, holding
// the NAT the connection was given (masquerade, Service DNAT) so that every later packet, replies
// included, is translated the same way, and aging the connection by its protocol state.
//
// Concurrency: none, by ownership. Each worker owns its ConnTrack and is its only reader and
// writer, so nothing here takes a lock or uses an atomic. The control thread never touches a
// worker's table while the worker runs: what it wants to know (entries, creations refused) the
// worker counts in its WorkerCounters. All memory is allocated by the constructor and freed by
// the destructor, after the worker has stopped; nothing allocates on the fast path.
//
// Layout: entries live in a fixed array with a free list; an index of 64-byte buckets of 8 slots
// (a 32-bit hash and a reference to an entry and a direction) points at them, one slot per
// direction. A tuple may sit in either of two buckets picked from its hash and goes to the emptier
// one ("power of two choices", cuckoo hashing without the displacements), so a lookup reads at
// most two cache lines of index and one entry per full-hash match. The index has 8 slots per
// entry, so it is at most a quarter full and a bucket pair is full only with negligible
// probability; if it ever is, creation fails like a full table, and no lookup probes further.
#pragma once

#include <rte_common.h>

#include <array>
#include <cstdint>
#include <vector>

#include "vswitch/conn_tuple.h"
#include "vswitch/nat/tcp_conn_state.h"

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

// A tracked connection. ConnTrack owns every field but the cookie, the caller's to use (a
// Service's backend index, say).
class ConnEntry {
 public:
  // Original: as the first packet was seen. Reply: what a reply looks like on the wire after the
  // original direction's translation (nat_reply_tuple).
  const ConnTuple& tuple(ConnDir dir) const { return tuples_[static_cast<unsigned>(dir)]; }
  const NatSpec& nat() const { return nat_; }
  TcpState tcp_state() const { return tcp_state_; }
  bool replied() const { return replied_; }
  uint64_t last_seen() const { return last_seen_; }  // TSC
  uint32_t cookie() const { return cookie_; }
  void set_cookie(uint32_t cookie) { cookie_ = cookie; }

 private:
  friend class ConnTrack;
  std::array<ConnTuple, 2> tuples_{};
  NatSpec nat_;
  uint64_t last_seen_ = 0;
  uint32_t cookie_ = 0;
  TcpState tcp_state_ = TcpState::none;
  uint8_t fin_seen_ = 0;  // bit 1 << ConnDir: that side has sent FIN
  bool replied_ = false;
  bool in_use_ = false;
};

struct ConnLookup {
  ConnEntry* entry = nullptr;  // null: not tracked
  ConnDir dir = ConnDir::original;
};

class ConnTrack {
 public:
  // Throws std::invalid_argument unless 1 <= capacity <= kMaxCapacity and tsc_hz > 0.
  ConnTrack(uint32_t capacity, uint64_t tsc_hz, const ConnTimeouts& timeouts = {});
  static constexpr uint32_t kMaxCapacity = 1u << 24;

  // The live entry holding `tuple` in either direction, and which direction it is. An expired
  // entry found on the way is removed and reported absent.
  ConnLookup lookup(const ConnTuple& tuple, uint64_t now);

  // A new entry for a connection not tracked yet (look `orig` up first; for NAT, `reply` must be
  // free too: SnatPortAllocator picks SNAT ports so). Returns nullptr, with nothing changed but
  // expired entries removed, when the table is full even after removing the expired entries in
  // the two tuples' buckets, or when a live entry already holds either tuple. The caller counts
  // the drop. The entry starts as last seen `now`; call update() for its first packet too.
  ConnEntry* create(const ConnTuple& orig, const ConnTuple& reply, const NatSpec& nat,
                    uint64_t now);

  // Records a packet of the connection travelling in `dir`: the time, whether a reply has been
  // seen and, for TCP, the state after `tcp_flags` (RTE_TCP_*_FLAG; ignored for other protocols).
  void update(ConnEntry* entry, ConnDir dir, uint8_t tcp_flags, uint64_t now);

  void remove(ConnEntry* entry);

  // Ages the table a little: looks at the next `budget` entries (round robin) and removes those
  // that expired. Returns how many it removed. One pass over capacity() entries sees them all.
  uint32_t expire(uint64_t now, uint32_t budget);

  uint32_t size() const { return capacity() - static_cast<uint32_t>(free_.size()); }
  uint32_t capacity() const { return static_cast<uint32_t>(entries_.size()); }

 private:
  static constexpr unsigned kSlots = 8;
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct alignas(RTE_CACHE_LINE_SIZE) Bucket {
    uint32_t hash[kSlots];
    uint32_t ref[kSlots];  // entry index * 2 + ConnDir, or kEmpty
  };
  static_assert(sizeof(Bucket) == RTE_CACHE_LINE_SIZE);
  struct SlotPos {
    Bucket* bucket = nullptr;  // null: none
    unsigned slot = 0;
  };

  std::array<uint32_t, 2> buckets_of(uint32_t hash) const;
  SlotPos find(const ConnTuple& tuple, uint32_t hash);
  SlotPos free_slot(uint32_t hash);
  bool insert(uint32_t orig_hash, uint32_t reply_hash);
  bool clear_expired_holder(const ConnTuple& tuple, uint32_t hash, uint64_t now);
  void remove_expired(uint32_t hash, uint64_t now);
  bool expired(const ConnEntry& e, uint64_t now) const;
  uint64_t timeout(const ConnEntry& e) const;

  std::vector<ConnEntry> entries_;
  std::vector<uint32_t> free_;  // indexes of unused entries, used as a stack
  std::vector<Bucket> buckets_;
  uint32_t bucket_mask_;
  uint32_t expire_cursor_ = 0;
  std::array<uint64_t, kNumTcpStates> tcp_timeout_;  // TSC cycles, by TcpState
  uint64_t udp_unreplied_timeout_;
  uint64_t udp_replied_timeout_;
  uint64_t icmp_timeout_;
};

}  // namespace podvs
